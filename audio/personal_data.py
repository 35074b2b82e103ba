"""The audio app's part of a user's data (`accounts.signals.user_exporting`). The files themselves
are deleted with the account by the transcriptions app, which knows which are still in use."""

from typing import Any

from accounts.models import User
from audio.selectors import audio_file_list


def export(sender: type[User], *, user: User, **kwargs: Any) -> tuple[str, object]:
    return "audio_files", [
        {
            "id": str(audio.pk),
            "original_filename": audio.original_filename,
            "format": audio.format,
            "size_bytes": audio.size_bytes,
            "duration_seconds": str(audio.duration_seconds),
            "created_at": audio.created_at.isoformat(),
        }
        for audio in audio_file_list(user=user)
    ]
