from decimal import Decimal

import pytest

from tests.factories import UserFactory
from tests.wallet.conftest import fund, make_transcription
from transcriptions.models import wallet_subject
from wallet.audit import wallet_audit
from wallet.exceptions import InsufficientBalance, NothingToRefund
from wallet.models import Hold, Transaction, Wallet
from wallet.services import (
    wallet_adjust,
    wallet_capture,
    wallet_credit,
    wallet_quote,
    wallet_refund,
    wallet_release,
    wallet_reserve,
)

pytestmark = pytest.mark.django_db
D = Decimal


def figures(user) -> dict[str, Decimal]:
    wallet = Wallet.objects.get(user=user)
    return {
        "balance": wallet.balance,
        "held": wallet.held,
        "demo": wallet.demo_minutes_remaining,
        "demo_held": wallet.demo_minutes_held,
        "spent": wallet.total_spent,
        "minutes": wallet.total_minutes_transcribed,
    }


@pytest.fixture(autouse=True)
def ledger_stays_consistent(db):
    yield
    assert wallet_audit().mismatches == []


def test_reserve_holds_demo_minutes_first_then_money(user):
    fund(user, balance=D("20.00"))
    transcription = make_transcription(user, D("15.00"))

    hold = wallet_reserve(user=user, subject=wallet_subject(transcription.pk), minutes=D("15.00"))

    assert (hold.demo_minutes, hold.amount, hold.status) == (D("10.00"), D("5.00"), Hold.Status.HELD)
    assert figures(user) == {
        "balance": D("20.00"),
        "held": D("5.00"),
        "demo": D("10.00"),
        "demo_held": D("10.00"),
        "spent": D("0.00"),
        "minutes": D("0.00"),
    }
    assert Wallet.objects.get(user=user).available == D("15.00")
    assert not Transaction.objects.filter(type=Transaction.Type.DEBIT).exists()


def test_reserve_refuses_what_available_money_cannot_cover(user):
    fund(user, balance=D("4.99"))
    transcription = make_transcription(user, D("15.00"))

    with pytest.raises(InsufficientBalance) as refusal:
        wallet_reserve(user=user, subject=wallet_subject(transcription.pk), minutes=D("15.00"))

    assert refusal.value.code == "insufficient_balance"
    assert "₹5.00" in refusal.value.detail
    assert not Hold.objects.exists()
    assert figures(user)["held"] == D("0.00")
    assert figures(user)["demo_held"] == D("0.00")


def test_held_demo_minutes_and_money_are_not_available_to_the_next_reservation(user):
    fund(user, balance=D("3.00"))
    wallet_reserve(user=user, subject=wallet_subject(make_transcription(user).pk), minutes=D("8.00"))
    wallet_reserve(user=user, subject=wallet_subject(make_transcription(user).pk), minutes=D("4.00"))  # 2 demo + ₹2

    wallet = Wallet.objects.get(user=user)
    assert wallet_quote(wallet=wallet, minutes=D("2.00")).amount == D("2.00")
    with pytest.raises(InsufficientBalance):
        wallet_reserve(user=user, subject=wallet_subject(make_transcription(user).pk), minutes=D("2.00"))
    assert figures(user)["held"] == D("2.00")
    assert figures(user)["demo_held"] == D("10.00")


def test_second_reserve_of_same_transcription_returns_first_hold(user, transcription):
    first = wallet_reserve(user=user, subject=wallet_subject(transcription.pk), minutes=D("1.00"))
    second = wallet_reserve(user=user, subject=wallet_subject(transcription.pk), minutes=D("1.00"))

    assert second.pk == first.pk
    assert figures(user)["demo_held"] == D("1.00")


@pytest.mark.parametrize("minutes", [D("-1.00"), D("1.001"), 1.5])
def test_reserve_refuses_minutes_that_are_not_whole_hundredths(user, transcription, minutes):
    with pytest.raises(ValueError):
        wallet_reserve(user=user, subject=wallet_subject(transcription.pk), minutes=minutes)


def test_capture_writes_one_debit_with_before_and_after_figures(user):
    fund(user, balance=D("20.00"))
    transcription = make_transcription(user, D("15.00"))
    wallet_reserve(user=user, subject=wallet_subject(transcription.pk), minutes=D("15.00"))

    line = wallet_capture(subject=wallet_subject(transcription.pk))

    assert (line.type, line.amount, line.demo_minutes, line.minutes) == (
        Transaction.Type.DEBIT,
        D("-5.00"),
        D("-10.00"),
        D("15.00"),
    )
    assert (line.balance_before, line.balance_after) == (D("20.00"), D("15.00"))
    assert (line.demo_minutes_before, line.demo_minutes_after) == (D("10.00"), D("0.00"))
    assert (line.subject_type, line.subject_id) == ("transcription", str(transcription.pk))
    assert figures(user) == {
        "balance": D("15.00"),
        "held": D("0.00"),
        "demo": D("0.00"),
        "demo_held": D("0.00"),
        "spent": D("5.00"),
        "minutes": D("15.00"),
    }
    assert Hold.objects.get().status == Hold.Status.CAPTURED


def test_second_capture_changes_nothing_and_returns_the_same_line(user, transcription):
    wallet_reserve(user=user, subject=wallet_subject(transcription.pk), minutes=D("1.00"))
    first = wallet_capture(subject=wallet_subject(transcription.pk))
    before = figures(user)

    assert wallet_capture(subject=wallet_subject(transcription.pk)).pk == first.pk
    assert figures(user) == before
    assert Transaction.objects.filter(type=Transaction.Type.DEBIT).count() == 1


def test_release_gives_the_hold_back_without_a_ledger_line(user):
    fund(user, balance=D("5.00"))
    transcription = make_transcription(user, D("12.00"))
    wallet_reserve(user=user, subject=wallet_subject(transcription.pk), minutes=D("12.00"))
    lines_before = Transaction.objects.count()

    assert wallet_release(subject=wallet_subject(transcription.pk)) is True

    assert figures(user) == {
        "balance": D("5.00"),
        "held": D("0.00"),
        "demo": D("10.00"),
        "demo_held": D("0.00"),
        "spent": D("0.00"),
        "minutes": D("0.00"),
    }
    assert Transaction.objects.count() == lines_before
    assert Hold.objects.get().status == Hold.Status.RELEASED


def test_release_and_capture_after_release_change_nothing(user, transcription):
    wallet_reserve(user=user, subject=wallet_subject(transcription.pk), minutes=D("1.00"))
    wallet_release(subject=wallet_subject(transcription.pk))

    assert wallet_release(subject=wallet_subject(transcription.pk)) is False
    assert wallet_capture(subject=wallet_subject(transcription.pk)) is None
    assert figures(user)["demo"] == D("10.00")
    assert not Transaction.objects.filter(type=Transaction.Type.DEBIT).exists()


def test_release_after_capture_changes_nothing(user, transcription):
    wallet_reserve(user=user, subject=wallet_subject(transcription.pk), minutes=D("1.00"))
    wallet_capture(subject=wallet_subject(transcription.pk))

    assert wallet_release(subject=wallet_subject(transcription.pk)) is False
    assert figures(user)["demo"] == D("9.00")


def test_capture_and_release_without_a_hold_do_nothing(user, transcription):
    assert wallet_capture(subject=wallet_subject(transcription.pk)) is None
    assert wallet_release(subject=wallet_subject(transcription.pk)) is False


def test_same_payment_is_credited_once(user):
    line, created = wallet_credit(user=user, amount=D("100.00"), payment_id="pay_A")
    again, created_again = wallet_credit(user=user, amount=D("100.00"), payment_id="pay_A")

    assert (created, created_again) == (True, False)
    assert again.pk == line.pk
    assert (line.balance_before, line.balance_after, line.payment_id) == (D("0.00"), D("100.00"), "pay_A")
    wallet = Wallet.objects.get(user=user)
    assert (wallet.balance, wallet.total_credited) == (D("100.00"), D("100.00"))


def test_a_payment_id_credited_to_one_user_is_not_credited_to_another(user, other_user):
    wallet_credit(user=user, amount=D("10.00"), payment_id="pay_A")

    _, created = wallet_credit(user=other_user, amount=D("10.00"), payment_id="pay_A")

    assert created is False
    assert Wallet.objects.get(user=other_user).balance == D("0.00")


@pytest.mark.parametrize("amount", [D("0.00"), D("-1.00"), D("1.001"), 5])
def test_credit_refuses_amounts_that_are_not_positive_paise(user, amount):
    with pytest.raises(ValueError):
        wallet_credit(user=user, amount=amount, payment_id="pay_A")
    assert Wallet.objects.get(user=user).balance == D("0.00")


def test_refund_gives_back_money_and_demo_minutes_once(user, admin_user):
    fund(user, balance=D("20.00"))
    transcription = make_transcription(user, D("15.00"))
    wallet_reserve(user=user, subject=wallet_subject(transcription.pk), minutes=D("15.00"))
    wallet_capture(subject=wallet_subject(transcription.pk))

    line = wallet_refund(subject=wallet_subject(transcription.pk), reason="garbled audio", created_by=admin_user)

    assert (line.type, line.amount, line.demo_minutes, line.description) == (
        Transaction.Type.REFUND,
        D("5.00"),
        D("10.00"),
        "garbled audio",
    )
    assert line.created_by == admin_user
    assert figures(user) == {
        "balance": D("20.00"),
        "held": D("0.00"),
        "demo": D("10.00"),
        "demo_held": D("0.00"),
        "spent": D("0.00"),
        "minutes": D("15.00"),  # the work was done
    }
    with pytest.raises(NothingToRefund):
        wallet_refund(subject=wallet_subject(transcription.pk), reason="again")
    assert Wallet.objects.get(user=user).balance == D("20.00")


def test_refund_of_an_uncharged_transcription_is_refused(user, transcription):
    wallet_reserve(user=user, subject=wallet_subject(transcription.pk), minutes=D("1.00"))

    with pytest.raises(NothingToRefund) as refusal:
        wallet_refund(subject=wallet_subject(transcription.pk), reason="never completed")
    assert refusal.value.status_code == 409


def test_adjust_changes_balance_and_demo_minutes_with_a_reason(user, admin_user):
    line = wallet_adjust(
        wallet_id=user.wallet.pk,
        amount=D("50.00"),
        demo_minutes=D("-2.50"),
        reason="goodwill",
        created_by=admin_user,
    )

    assert (line.type, line.balance_after, line.demo_minutes_after, line.created_by) == (
        Transaction.Type.ADJUSTMENT,
        D("50.00"),
        D("7.50"),
        admin_user,
    )
    wallet = Wallet.objects.get(user=user)
    assert (wallet.balance, wallet.demo_minutes_remaining, wallet.total_credited) == (
        D("50.00"),
        D("7.50"),
        D("0.00"),
    )


def test_adjust_cannot_take_held_money_or_minutes(user):
    fund(user, balance=D("5.00"), demo_minutes=D("0.00"))
    wallet_reserve(user=user, subject=wallet_subject(make_transcription(user, D("3.00")).pk), minutes=D("3.00"))

    with pytest.raises(InsufficientBalance):
        wallet_adjust(wallet_id=user.wallet.pk, amount=D("-2.01"), reason="too much")
    with pytest.raises(InsufficientBalance):
        wallet_adjust(wallet_id=user.wallet.pk, demo_minutes=D("-0.01"), reason="too much")

    wallet_adjust(wallet_id=user.wallet.pk, amount=D("-2.00"), reason="exactly what is free")
    assert (figures(user)["balance"], figures(user)["held"]) == (D("3.00"), D("3.00"))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"amount": D("1.00"), "reason": "  "},
        {"amount": D("0.00"), "demo_minutes": D("0.00"), "reason": "nothing"},
        {"amount": D("0.001"), "reason": "a fraction of a paisa"},
    ],
)
def test_adjust_refuses_meaningless_changes(user, kwargs):
    with pytest.raises(ValueError):
        wallet_adjust(wallet_id=user.wallet.pk, **kwargs)


def test_new_wallets_get_the_configured_demo_minutes(settings):
    settings.DEMO_MINUTES = D("2.50")

    assert UserFactory().wallet.demo_minutes_remaining == D("2.50")
