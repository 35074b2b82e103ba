import os

from celery import Celery
from django.core.signals import request_started

from config.scheduler import start_in_process_beat

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("transcription")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Without a broker (the embedded default) there is no beat process: the web process runs the schedule.
request_started.connect(start_in_process_beat, dispatch_uid="in-process-beat")
