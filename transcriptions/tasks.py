from celery import shared_task

from transcriptions.services import transcription_run


@shared_task(name="transcriptions.transcribe", ignore_result=True)
def transcribe(transcription_id: str) -> None:
    """Run one job. No retries here: the service records every outcome itself (a failure releases
    the hold; the SDK has already retried each request), and an admin can retry a failed job.
    A message delivered twice (a worker died mid-job) finds the job no longer pending and does
    nothing; `reap_stuck_transcriptions` fails the abandoned job."""
    transcription_run(transcription_id=transcription_id)
