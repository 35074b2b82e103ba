import os
from pathlib import Path

from .celery import app as celery_app

# prometheus_client writes each process's metrics there from its first import on, before Django's
# settings are read: make sure the directory exists in every process (web, worker, beat, manage.py).
if _metrics_dir := os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    Path(_metrics_dir).mkdir(parents=True, exist_ok=True)

__all__ = ["celery_app"]
