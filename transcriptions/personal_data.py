"""The transcriptions app's part of a user's data (`accounts.signals`): exported with their text,
erased with the account, and the user's audio files with them (this app knows which are in use)."""

from typing import Any

from accounts.models import User
from audio.selectors import audio_file_list
from audio.services import audio_file_delete
from transcriptions.selectors import transcription_list
from transcriptions.serializers import TranscriptionOutputSerializer
from transcriptions.services import transcription_erase_all


def export(sender: type[User], *, user: User, **kwargs: Any) -> tuple[str, object]:
    return "transcriptions", TranscriptionOutputSerializer(transcription_list(user=user), many=True).data


def erase(sender: type[User], *, user: User, **kwargs: Any) -> None:
    """Refuses (`TranscriptionActive`) while a job of the user is pending or processing. A job
    requested meanwhile makes its audio file's deletion refuse, and so the whole erasure."""
    transcription_erase_all(user=user)
    for audio_file in audio_file_list(user=user):
        audio_file_delete(audio_file=audio_file)
