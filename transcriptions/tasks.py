from celery import shared_task
from django.db import InterfaceError, OperationalError
from kombu.exceptions import OperationalError as BrokerUnavailable

from transcriptions.live import live_session_reap
from transcriptions.services import TRANSCRIBE_TASK, transcription_reap, transcription_run

# Errors that pass: the database or the broker briefly gone. Retried with growing, jittered waits
# (about 2 minutes in all); a job whose retries run out is finished by the reaper at its deadline.
TRANSIENT_ERRORS = (OperationalError, InterfaceError, BrokerUnavailable)


@shared_task(
    bind=True,
    name=TRANSCRIBE_TASK,
    ignore_result=True,
    acks_late=True,
    reject_on_worker_lost=True,
    # A worker process killed mid-job (OOM, SIGKILL) sends the task again, at most `max_retries`
    # times, so audio that kills its worker cannot loop forever.
    retry_on_worker_lost=True,
    default_retry_delay=5,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=2,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=6,
)
def transcribe(self, transcription_id: str) -> None:
    """Run one job; its time limits come with the message (see `transcription_time_limits`).
    A second delivery of the same task resumes the job it started; any other does nothing."""
    transcription_run(transcription_id=transcription_id, run_id=self.request.id)


@shared_task(name="transcriptions.reap", ignore_result=True)
def reap() -> None:
    """Beat runs this every TRANSCRIPTION_REAPER_INTERVAL_SECONDS: stuck jobs, and live sessions
    whose process died."""
    transcription_reap()
    live_session_reap()
