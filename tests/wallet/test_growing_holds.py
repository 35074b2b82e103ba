"""Holds that grow a minute at a time and are captured for less than they cover (live sessions)."""

from decimal import Decimal

import pytest

from tests.wallet.conftest import fund, make_transcription
from transcriptions.models import wallet_subject
from wallet.audit import wallet_audit
from wallet.exceptions import InsufficientBalance
from wallet.models import Hold, Transaction, Wallet
from wallet.services import wallet_capture, wallet_hold_extend, wallet_release, wallet_reserve

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture(autouse=True)
def ledger_stays_consistent(db):
    yield
    assert wallet_audit().mismatches == []


def held(user) -> tuple[Decimal, Decimal]:
    wallet = Wallet.objects.get(user=user)
    return wallet.held, wallet.demo_minutes_held


def test_extending_takes_demo_minutes_first_then_money_as_one_reservation_would(user):
    fund(user, balance=D("5.00"), demo_minutes=D("1.50"))
    subject = wallet_subject(make_transcription(user).pk)
    wallet_reserve(user=user, subject=subject, minutes=D("1.00"))

    hold = wallet_hold_extend(subject=subject, minutes=D("3.00"))

    assert (hold.billable_minutes, hold.demo_minutes, hold.amount) == (D("3.00"), D("1.50"), D("1.50"))
    assert held(user) == (D("1.50"), D("1.50"))


def test_extending_refuses_what_is_not_available_and_leaves_the_hold_as_it_was(user):
    fund(user, balance=D("1.00"), demo_minutes=D("0.00"))
    subject = wallet_subject(make_transcription(user).pk)
    wallet_reserve(user=user, subject=subject, minutes=D("1.00"))

    with pytest.raises(InsufficientBalance):
        wallet_hold_extend(subject=subject, minutes=D("2.00"))

    hold = Hold.objects.get(subject_id=subject.id)
    assert (hold.billable_minutes, hold.amount) == (D("1.00"), D("1.00"))
    assert held(user) == (D("1.00"), D("0.00"))


def test_extending_to_no_more_than_is_held_changes_nothing(user):
    subject = wallet_subject(make_transcription(user).pk)
    wallet_reserve(user=user, subject=subject, minutes=D("2.00"))

    hold = wallet_hold_extend(subject=subject, minutes=D("1.00"))

    assert hold.billable_minutes == D("2.00")
    assert held(user) == (D("0.00"), D("2.00"))


def test_a_settled_hold_cannot_be_extended(user):
    subject = wallet_subject(make_transcription(user).pk)
    wallet_reserve(user=user, subject=subject, minutes=D("1.00"))
    wallet_release(subject=subject)

    with pytest.raises(ValueError, match="no open hold"):
        wallet_hold_extend(subject=subject, minutes=D("2.00"))


def test_capturing_fewer_minutes_charges_those_demo_first_and_gives_the_rest_back(user):
    fund(user, balance=D("10.00"), demo_minutes=D("1.00"))
    subject = wallet_subject(make_transcription(user).pk)
    wallet_reserve(user=user, subject=subject, minutes=D("3.00"))  # 1 demo minute, ₹2.00

    line = wallet_capture(subject=subject, minutes=D("1.27"))

    assert line is not None
    assert (line.minutes, line.demo_minutes, line.amount) == (D("1.27"), D("-1.00"), D("-0.27"))
    wallet = Wallet.objects.get(user=user)
    assert (wallet.balance, wallet.held, wallet.demo_minutes_remaining, wallet.demo_minutes_held) == (
        D("9.73"),
        D("0.00"),
        D("0.00"),
        D("0.00"),
    )
    assert Transaction.objects.filter(type=Transaction.Type.DEBIT).count() == 1


def test_capturing_more_minutes_than_held_is_refused_and_nothing_moves(user):
    subject = wallet_subject(make_transcription(user).pk)
    wallet_reserve(user=user, subject=subject, minutes=D("1.00"))

    with pytest.raises(ValueError, match="Cannot capture"):
        wallet_capture(subject=subject, minutes=D("1.01"))

    assert Hold.objects.get(subject_id=subject.id).status == Hold.Status.HELD
    assert held(user) == (D("0.00"), D("1.00"))
