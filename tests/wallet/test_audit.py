from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from tests.wallet.conftest import fund, make_transcription
from transcriptions.models import wallet_subject
from wallet.models import Hold, Wallet
from wallet.services import wallet_capture, wallet_refund, wallet_reserve

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def busy_wallet(user):
    """A wallet that has seen every kind of line and still has an open hold."""
    fund(user, balance=D("30.00"), demo_minutes=D("4.00"))
    transcriptions = [make_transcription(user, minutes) for minutes in (D("3.00"), D("6.50"), D("2.00"))]
    for transcription in transcriptions:
        wallet_reserve(user=user, subject=wallet_subject(transcription.pk), minutes=transcription.billable_minutes)
        wallet_capture(subject=wallet_subject(transcription.pk))
    wallet_refund(subject=wallet_subject(transcriptions[0].pk), reason="bad audio")  # 3 demo minutes back
    wallet_reserve(user=user, subject=wallet_subject(make_transcription(user, D("5.00")).pk), minutes=D("5.00"))
    return Wallet.objects.get(user=user)


def test_audit_of_a_consistent_ledger_exits_zero(busy_wallet, other_user, capsys):
    call_command("audit_ledger")

    out = capsys.readouterr().out
    assert "2 wallets, 8 ledger lines checked: no mismatch." in out


@pytest.mark.parametrize(
    "figure, value",
    [
        ("balance", D("999.00")),
        ("demo_minutes_remaining", D("9.00")),
        ("total_credited", D("0.00")),
        ("total_spent", D("1.00")),
        ("total_minutes_transcribed", D("0.00")),
        ("held", D("0.00")),
        ("demo_minutes_held", D("0.00")),
    ],
)
def test_audit_reports_a_hand_corrupted_figure_and_fails(busy_wallet, other_user, capsys, figure, value):
    Wallet.objects.filter(pk=busy_wallet.pk).update(**{figure: value})

    with pytest.raises(CommandError, match="1 mismatches in 1 wallets"):
        call_command("audit_ledger")

    out = capsys.readouterr().out
    assert f"wallet {busy_wallet.pk} ({busy_wallet.user.email}): {figure} is {value}, its ledger says" in out


def test_audit_reports_a_hold_that_vanished_from_under_the_wallet(busy_wallet):
    Hold.objects.filter(status=Hold.Status.HELD).update(status=Hold.Status.RELEASED)

    with pytest.raises(CommandError):
        call_command("audit_ledger")


def test_audit_of_one_wallet_ignores_the_others(busy_wallet, other_user, capsys):
    Wallet.objects.filter(pk=busy_wallet.pk).update(balance=D("999.00"))

    call_command("audit_ledger", "--wallet", str(other_user.wallet.pk))

    assert "1 wallets, 1 ledger lines checked: no mismatch." in capsys.readouterr().out
