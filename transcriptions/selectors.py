from transcriptions.models import Transcription

ACTIVE_STATUSES = (Transcription.Status.PENDING, Transcription.Status.PROCESSING)


def audio_has_active_transcription(*, audio_file_id) -> bool:
    """True while a transcription of this audio is pending or processing."""
    return Transcription.objects.filter(audio_file_id=audio_file_id, status__in=ACTIVE_STATUSES).exists()
