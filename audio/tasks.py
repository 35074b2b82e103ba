from celery import shared_task

from audio.services import audio_purge_expired


@shared_task(name="audio.purge_expired", ignore_result=True)
def purge_expired() -> None:
    """Beat runs this every AUDIO_RETENTION_INTERVAL_SECONDS."""
    audio_purge_expired()
