from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from django.db.models import QuerySet

from audio.exceptions import DirectUploadNotFound
from audio.models import AudioFile, DirectUpload
from wallet.services import Quote, billable_minutes, wallet_quote

if TYPE_CHECKING:
    from accounts.models import User
    from wallet.models import Wallet


def audio_file_list(*, user: User) -> QuerySet[AudioFile]:
    return AudioFile.objects.filter(user=user)


def audio_file_get(*, user: User, audio_file_id: UUID | str, for_update: bool = False) -> AudioFile | None:
    """The user's audio file, or None (also when it is someone else's). `for_update` locks its row
    until the caller's transaction ends."""
    audio_files = AudioFile.objects.select_for_update() if for_update else AudioFile.objects
    return audio_files.filter(user=user, pk=audio_file_id).first()


def direct_upload_get(*, user: User, upload_id: UUID | str) -> DirectUpload:
    """The user's upload not yet completed; anyone else's is `DirectUploadNotFound`."""
    upload = DirectUpload.objects.filter(user=user, pk=upload_id).first()
    if upload is None:
        raise DirectUploadNotFound()
    return upload


def audio_file_quote(*, audio_file: AudioFile, wallet: Wallet) -> Quote:
    """What transcribing this file would cost from `wallet` as it stands: demo minutes first."""
    return wallet_quote(wallet=wallet, minutes=billable_minutes(audio_file.duration_seconds))
