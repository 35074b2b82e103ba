from celery import shared_task

from audio.services import audio_purge_expired, direct_upload_purge_expired, stored_file_retry_deletions


@shared_task(name="audio.purge_expired", ignore_result=True)
def purge_expired() -> None:
    """Beat runs this every AUDIO_RETENTION_INTERVAL_SECONDS."""
    audio_purge_expired()


@shared_task(name="audio.clean_up_storage", ignore_result=True)
def clean_up_storage() -> None:
    """Beat runs this every STORED_FILE_DELETION_RETRY_SECONDS: direct uploads never completed go,
    and deletions the storage refused are tried again."""
    direct_upload_purge_expired()
    stored_file_retry_deletions()
