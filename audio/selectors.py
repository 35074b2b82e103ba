from typing import TYPE_CHECKING

from django.db.models import QuerySet

from audio.models import AudioFile
from wallet.services import Quote, billable_minutes, wallet_quote

if TYPE_CHECKING:
    from wallet.models import Wallet


def audio_file_list(*, user) -> QuerySet[AudioFile]:
    return AudioFile.objects.filter(user=user)


def audio_file_quote(*, audio_file: AudioFile, wallet: "Wallet") -> Quote:
    """What transcribing this file would cost from `wallet` as it stands: demo minutes first."""
    return wallet_quote(wallet=wallet, minutes=billable_minutes(audio_file.duration_seconds))
