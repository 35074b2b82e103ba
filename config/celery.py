import logging
import os

from billiard.common import REMAP_SIGTERM
from celery import Celery
from celery.signals import worker_ready
from django.core.signals import request_started

from config.scheduler import start_in_process_beat

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("transcription")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Without a broker (the embedded default) there is no beat process: the web process runs the schedule.
request_started.connect(start_in_process_beat, dispatch_uid="in-process-beat")


@worker_ready.connect
def warn_when_stopping_waits_for_jobs(**kwargs) -> None:
    """Billiard reads REMAP_SIGTERM from the environment before any app code runs, so only the
    operator can set it; say so when a worker would keep a deploy waiting up to a job's time limit."""
    if REMAP_SIGTERM != "SIGQUIT":
        logging.getLogger(__name__).warning(
            "REMAP_SIGTERM=SIGQUIT is not set: SIGTERM will wait for running transcriptions to end, up to their "
            "time limits, instead of handing them back to the queue after CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT"
        )
