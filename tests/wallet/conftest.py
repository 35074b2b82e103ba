from decimal import Decimal

import pytest

from tests.factories import TranscriptionFactory
from transcriptions.models import Transcription
from wallet.services import wallet_adjust, wallet_credit


def make_transcription(user, minutes: Decimal = Decimal("1.00")) -> Transcription:
    """A transcription row to hang a hold on (the transcriptions app's own flow is not needed here)."""
    return TranscriptionFactory(user=user, minutes=minutes)


def fund(user, *, balance: Decimal, demo_minutes: Decimal | None = None) -> None:
    """Give `user` exactly `balance` rupees and, if given, exactly `demo_minutes` demo minutes."""
    if balance:
        wallet_credit(user=user, amount=balance, payment_id=f"pay_fund_{user.pk}")
    wallet = user.wallet
    wallet.refresh_from_db()
    if demo_minutes is not None and demo_minutes != wallet.demo_minutes_remaining:
        wallet_adjust(
            wallet_id=wallet.pk, demo_minutes=demo_minutes - wallet.demo_minutes_remaining, reason="test set-up"
        )


@pytest.fixture
def transcription(user) -> Transcription:
    return make_transcription(user)
