from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from accounts.services import user_create
from tests.wallet.conftest import fund, make_transcription
from transcriptions.models import wallet_subject
from wallet.models import Transaction, Wallet
from wallet.services import wallet_capture, wallet_reserve

WALLETS_URL = "/admin/wallet/wallet/"
TRANSCRIPTIONS_URL = "/admin/transcriptions/transcription/"
D = Decimal


@pytest.fixture
def admin(db):
    return user_create(email="admin@example.com", password="pw-for-tests", is_staff=True, is_superuser=True)


@pytest.fixture
def admin_client(admin) -> Client:
    client = Client()
    client.force_login(admin)
    return client


def _adjust(client: Client, wallet: Wallet, **form):
    return client.post(
        WALLETS_URL, {"action": "credit_or_adjust", "_selected_action": [wallet.pk], "apply": "1", **form}, follow=True
    )


def test_adjust_action_first_asks_for_amounts_and_a_reason(admin_client, user):
    response = admin_client.post(WALLETS_URL, {"action": "credit_or_adjust", "_selected_action": [user.wallet.pk]})

    assert response.status_code == 200
    assert b'name="reason"' in response.content
    assert b'name="amount"' in response.content
    assert Transaction.objects.filter(wallet=user.wallet).count() == 1  # only the demo grant


def test_adjust_action_writes_one_line_with_the_reason(admin_client, admin, user):
    response = _adjust(admin_client, user.wallet, amount="25.50", demo_minutes="-3", reason="Paid by bank transfer")

    assert response.status_code == 200
    assert "balance ₹25.50, demo minutes 7.00." in response.content.decode()
    line = Transaction.objects.get(wallet=user.wallet, type=Transaction.Type.ADJUSTMENT)
    assert (line.amount, line.demo_minutes, line.description, line.created_by) == (
        D("25.50"),
        D("-3.00"),
        "Paid by bank transfer",
        admin,
    )


def test_adjust_action_that_would_take_held_money_is_refused(admin_client, user):
    fund(user, balance=D("2.00"), demo_minutes=D("0.00"))
    wallet_reserve(user=user, subject=wallet_subject(make_transcription(user).pk), minutes=D("1.00"))

    response = _adjust(admin_client, user.wallet, amount="-1.01", demo_minutes="0", reason="chargeback")

    assert "would take away more than is available" in response.content.decode()
    assert Wallet.objects.get(user=user).balance == D("2.00")


@pytest.mark.parametrize(
    "form",
    [
        {"amount": "5", "demo_minutes": "0", "reason": ""},
        {"amount": "0", "demo_minutes": "0", "reason": "nothing"},
        {"amount": "1.001", "demo_minutes": "0", "reason": "fraction of a paisa"},
        {"amount": "ten", "demo_minutes": "0", "reason": "not a number"},
    ],
)
def test_adjust_action_with_an_invalid_form_writes_nothing(admin_client, user, form):
    response = _adjust(admin_client, user.wallet, **form)

    assert response.status_code == 200
    assert b'class="errorlist' in response.content
    assert not Transaction.objects.filter(type=Transaction.Type.ADJUSTMENT).exists()


def test_staff_without_ledger_permission_cannot_adjust(user, db):
    clerk = user_create(email="clerk@example.com", password="pw-for-tests", is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="view_wallet"))
    client = Client()
    client.force_login(clerk)

    assert b"credit_or_adjust" not in client.get(WALLETS_URL).content
    _adjust(client, user.wallet, amount="100", demo_minutes="0", reason="for me")
    assert not Transaction.objects.filter(type=Transaction.Type.ADJUSTMENT).exists()


def test_refund_action_refunds_a_completed_transcription_once(admin_client, admin, user):
    fund(user, balance=D("10.00"))
    transcription = make_transcription(user, D("12.00"))
    wallet_reserve(user=user, subject=wallet_subject(transcription.pk), minutes=D("12.00"))
    wallet_capture(subject=wallet_subject(transcription.pk))
    form = {"action": "refund_transcriptions", "_selected_action": [transcription.pk], "reason": "Speaker inaudible"}

    asked = admin_client.post(TRANSCRIPTIONS_URL, {k: v for k, v in form.items() if k != "reason"})
    done = admin_client.post(TRANSCRIPTIONS_URL, {**form, "apply": "1"}, follow=True)
    again = admin_client.post(TRANSCRIPTIONS_URL, {**form, "apply": "1"}, follow=True)

    assert b'name="reason"' in asked.content
    assert "refunded ₹2.00 and 10.00 demo minutes." in done.content.decode()
    assert "already been refunded" in again.content.decode()
    refund = Transaction.objects.get(type=Transaction.Type.REFUND)
    assert (refund.subject_id, refund.description, refund.created_by) == (
        str(transcription.pk),
        "Speaker inaudible",
        admin,
    )
    assert Wallet.objects.get(user=user).balance == D("10.00")


def test_refund_action_refuses_a_transcription_that_was_never_charged(admin_client, user):
    transcription = make_transcription(user)
    wallet_reserve(user=user, subject=wallet_subject(transcription.pk), minutes=D("1.00"))

    response = admin_client.post(
        TRANSCRIPTIONS_URL,
        {"action": "refund_transcriptions", "_selected_action": [transcription.pk], "reason": "x", "apply": "1"},
        follow=True,
    )

    assert "was not charged" in response.content.decode()
    assert not Transaction.objects.filter(type=Transaction.Type.REFUND).exists()
