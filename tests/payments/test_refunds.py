"""Refunds to the card through Razorpay: an admin's, and those made on Razorpay's dashboard that
arrive as webhooks; the wallet holds, then gives out or gives back, and never goes below zero."""

import io
import json
import re
from decimal import Decimal

import pytest
import requests
import responses
from django.core.management import call_command
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from payments.exceptions import PaymentRejectedByProvider, RefundNotAllowed
from payments.models import Payment, Refund
from payments.services import payment_unrefunded, refund_start
from tests.factories import UserFactory
from tests.payments.fakes import (
    BASE_URL,
    new_payment_id,
    new_refund_id,
    payment_entity,
    post_webhook,
    refund_entity,
    refund_event,
    webhook_event,
)
from wallet.audit import wallet_audit
from wallet.exceptions import InsufficientBalance
from wallet.models import Hold, Transaction, Wallet
from wallet.services import wallet_adjust

pytestmark = pytest.mark.django_db


OUTCOMES = ["processed", "failed", "created"]


def paid_by(user, make_order) -> Payment:
    """A captured payment of ₹100, credited to the user's wallet through Razorpay's webhook."""
    order = make_order(user, "100.00")
    payment_id = new_payment_id()
    entity = payment_entity(payment_id=payment_id, order_id=order.razorpay_order_id, amount_paise=10000)
    assert post_webhook(Client(), webhook_event("payment.captured", entity)).status_code == 200
    return Payment.objects.select_related("order__user").get(razorpay_payment_id=payment_id)


@pytest.fixture
def paid(user, make_order) -> Payment:
    return paid_by(user, make_order)


def razorpay_refunds(api, status: str = "pending", *, answer: int = 200):
    """Razorpay's refund endpoint: records each request, answers a refund in `status` (or an error)."""
    asked = []

    def refund(request):
        body = json.loads(request.body)
        payment_id = request.url.split("/payments/")[1].split("/")[0]
        asked.append(body)
        if answer != 200:
            error = {"error": {"code": "BAD_REQUEST_ERROR", "description": "The refund amount is invalid."}}
            return answer, {}, json.dumps(error)
        entity = refund_entity(
            refund_id=new_refund_id(),
            payment_id=payment_id,
            amount_paise=body["amount"],
            status=status,
            local_id=body["notes"]["refund_id"],
        )
        return 200, {}, json.dumps(entity)

    api.add_callback(responses.POST, _url(r"/v1/payments/pay_\w+/refund"), callback=refund)
    return asked


def _url(pattern: str) -> re.Pattern:
    return re.compile(re.escape(BASE_URL) + pattern)


def wallet_of(payment: Payment) -> Wallet:
    return Wallet.objects.get(user=payment.order.user)


def deliver(event: str, refund: Refund | None = None, **entity) -> int:
    if refund is not None:
        entity = {
            "refund_id": refund.razorpay_refund_id,
            "payment_id": refund.payment.razorpay_payment_id,
            "amount_paise": int(refund.amount * 100),
            "local_id": str(refund.pk),
            **entity,
        }
    body = refund_event(event, refund_entity(**entity))
    return post_webhook(Client(), body, event_id=f"evt_{entity['refund_id']}_{event}").status_code


def audit_is_clean() -> bool:
    return wallet_audit().mismatches == []


# --- An admin's refund -----------------------------------------------------------------------------


def test_a_partial_refund_is_held_then_taken_out_when_razorpay_processes_it(paid, razorpay_api, admin_user):
    asked = razorpay_refunds(razorpay_api, status="pending")

    refund = refund_start(payment=paid, amount=Decimal("40.00"), reason="Customer asked", created_by=admin_user)

    assert asked == [
        {"amount": 4000, "speed": "normal", "receipt": str(refund.pk), "notes": {"refund_id": str(refund.pk)}}
    ]
    assert (refund.status, refund.source, refund.from_wallet) == ("created", "admin", Decimal("40.00"))
    wallet = wallet_of(paid)
    assert (wallet.balance, wallet.held) == (Decimal("100.00"), Decimal("40.00"))
    assert payment_unrefunded(payment=paid) == Decimal("60.00")

    assert deliver("refund.processed", refund) == 200

    refund.refresh_from_db()
    wallet.refresh_from_db()
    assert refund.status == "processed"
    assert (wallet.balance, wallet.held, wallet.total_refunded) == (Decimal("60.00"), 0, Decimal("40.00"))
    line = Transaction.objects.get(type="refund")
    assert (line.amount, line.subject_type, line.subject_id) == (Decimal("-40.00"), "payment_refund", str(refund.pk))
    assert audit_is_clean()


def test_a_refund_razorpay_fails_gives_the_hold_back(paid, razorpay_api):
    razorpay_refunds(razorpay_api)
    refund = refund_start(payment=paid, amount=Decimal("100.00"), reason="Duplicate payment")

    deliver("refund.failed", refund, status="failed")

    refund.refresh_from_db()
    wallet = wallet_of(paid)
    assert refund.status == "failed"
    assert (wallet.balance, wallet.held, wallet.total_refunded) == (Decimal("100.00"), 0, 0)
    assert not Transaction.objects.filter(type="refund").exists()
    assert payment_unrefunded(payment=paid) == Decimal("100.00")  # a failed refund refunds nothing


def test_razorpay_processing_at_once_takes_it_out_at_once(paid, razorpay_api):
    razorpay_refunds(razorpay_api, status="processed")

    refund = refund_start(payment=paid, amount=Decimal("25.50"), reason="Goodwill")

    assert refund.status == "processed"
    assert wallet_of(paid).balance == Decimal("74.50")


def test_never_more_than_the_payments_unrefunded_amount(paid, razorpay_api):
    razorpay_refunds(razorpay_api)
    wallet_adjust(wallet_id=wallet_of(paid).pk, amount=Decimal("500.00"), reason="other money in the wallet")
    refund_start(payment=paid, amount=Decimal("60.00"), reason="first")

    with pytest.raises(RefundNotAllowed, match=r"Only ₹40\.00 of this payment is not refunded yet"):
        refund_start(payment=paid, amount=Decimal("40.01"), reason="second")

    assert Refund.objects.count() == 1
    assert wallet_of(paid).held == Decimal("60.00")


def test_never_more_than_the_wallet_has_available(paid, razorpay_api):
    asked = razorpay_refunds(razorpay_api)
    wallet_adjust(wallet_id=wallet_of(paid).pk, amount=Decimal("-80.00"), reason="spent")

    with pytest.raises(InsufficientBalance):
        refund_start(payment=paid, amount=Decimal("20.01"), reason="too much")

    assert asked == []
    assert not Refund.objects.exists()
    assert not Hold.objects.filter(subject_type="payment_refund").exists()


@pytest.mark.parametrize("amount", ["0", "-5", "10.001"])
def test_a_refund_amount_must_be_positive_rupees_and_paise(paid, razorpay_api, amount):
    with pytest.raises(RefundNotAllowed):
        refund_start(payment=paid, amount=Decimal(amount), reason="x")


def test_a_refund_razorpay_refuses_is_failed_and_released(paid, razorpay_api):
    razorpay_refunds(razorpay_api, answer=400)

    with pytest.raises(PaymentRejectedByProvider):
        refund_start(payment=paid, amount=Decimal("10.00"), reason="x")

    refund = Refund.objects.get()
    assert refund.status == "failed"
    assert "invalid" in refund.error
    assert wallet_of(paid).held == 0


def test_when_razorpay_does_not_answer_the_refund_stays_held_until_its_webhook(paid, razorpay_api):
    razorpay_api.add(responses.POST, _url(r"/v1/payments/pay_\w+/refund"), body=requests.ConnectionError("down"))

    refund = refund_start(payment=paid, amount=Decimal("30.00"), reason="x")

    assert (refund.status, refund.razorpay_refund_id) == ("pending", None)
    assert wallet_of(paid).held == Decimal("30.00")
    # Razorpay did take it: its webhook names our refund by the notes it was sent.
    deliver(
        "refund.processed",
        refund_id=new_refund_id(),
        payment_id=paid.razorpay_payment_id,
        amount_paise=3000,
        local_id=str(refund.pk),
    )
    refund.refresh_from_db()
    assert refund.status == "processed" and refund.razorpay_refund_id
    assert wallet_of(paid).balance == Decimal("70.00")
    assert audit_is_clean()


def test_states_only_move_forward_and_repeats_change_nothing(paid, razorpay_api):
    razorpay_refunds(razorpay_api, status="processed")
    refund = refund_start(payment=paid, amount=Decimal("10.00"), reason="x")

    deliver("refund.created", refund)
    deliver("refund.failed", refund, status="failed")
    deliver("refund.processed", refund)

    refund.refresh_from_db()
    assert refund.status == "processed"
    assert Transaction.objects.filter(type="refund").count() == 1
    assert wallet_of(paid).balance == Decimal("90.00")
    assert audit_is_clean()


# --- Refunds made on Razorpay's dashboard --------------------------------------------------------


def test_a_dashboard_refund_is_recorded_and_taken_from_the_wallet(paid):
    refund_id = new_refund_id()

    assert (
        deliver(
            "refund.created",
            refund_id=refund_id,
            payment_id=paid.razorpay_payment_id,
            amount_paise=2500,
            status="pending",
        )
        == 200
    )
    refund = Refund.objects.get()
    assert (refund.source, refund.status, refund.from_wallet, refund.flagged) == (
        "dashboard",
        "created",
        Decimal("25.00"),
        False,
    )
    assert wallet_of(paid).held == Decimal("25.00")

    deliver("refund.processed", refund_id=refund_id, payment_id=paid.razorpay_payment_id, amount_paise=2500)

    assert wallet_of(paid).balance == Decimal("75.00")
    assert Refund.objects.get().status == "processed"
    assert audit_is_clean()


def test_a_dashboard_refund_of_money_already_spent_takes_what_is_left_and_flags_the_rest(paid):
    wallet_adjust(wallet_id=wallet_of(paid).pk, amount=Decimal("-70.00"), reason="spent on transcriptions")

    deliver("refund.processed", refund_id=new_refund_id(), payment_id=paid.razorpay_payment_id, amount_paise=5000)

    refund = Refund.objects.get()
    assert (refund.amount, refund.from_wallet, refund.shortfall, refund.flagged) == (
        Decimal("50.00"),
        Decimal("30.00"),
        Decimal("20.00"),
        True,
    )
    wallet = wallet_of(paid)
    assert (wallet.balance, wallet.held, wallet.total_refunded) == (0, 0, Decimal("30.00"))
    assert audit_is_clean()


def test_dashboard_webhooks_in_any_order_and_repeated_count_once(paid):
    refund_id = new_refund_id()
    entity = {"refund_id": refund_id, "payment_id": paid.razorpay_payment_id, "amount_paise": 1000}

    deliver("refund.processed", **entity)
    deliver("refund.created", **entity, status="pending")
    deliver("refund.processed", **entity)  # the same event id again: acknowledged, ignored

    assert Refund.objects.get().status == "processed"
    assert Transaction.objects.filter(type="refund").count() == 1
    assert wallet_of(paid).balance == Decimal("90.00")


def test_a_refund_of_a_payment_we_do_not_know_is_acknowledged_and_ignored(paid):
    assert deliver("refund.processed", refund_id=new_refund_id(), payment_id="pay_notours0000", amount_paise=100) == 200

    assert not Refund.objects.exists()


# --- Reconciliation and what the user sees --------------------------------------------------------


def test_reconcile_applies_and_reports_refunds_we_never_heard_of(paid, razorpay_api):
    razorpay_api.add(responses.GET, _url(r"/v1/payments\?.*"), json={"items": [], "count": 0})
    missed = refund_entity(refund_id=new_refund_id(), payment_id=paid.razorpay_payment_id, amount_paise=1500)
    razorpay_api.add(
        responses.GET, _url(rf"/v1/payments/{paid.razorpay_payment_id}/refunds.*"), json={"items": [missed]}
    )
    out = io.StringIO()

    with pytest.raises(SystemExit) as exit_status:
        call_command("reconcile_payments", "--since", "1d", stdout=out)

    assert exit_status.value.code == 1
    assert "not recorded here" in out.getvalue() and missed["id"] in out.getvalue()
    assert Refund.objects.get().status == "processed"
    assert wallet_of(paid).balance == Decimal("85.00")
    out = io.StringIO()
    call_command("reconcile_payments", "--since", "1d", stdout=out)  # nothing differs any more
    assert "Refunds differing from Razorpay's (now applied): 0" in out.getvalue()


def test_the_user_sees_refunds_in_the_ledger_and_the_wallet(paid, razorpay_api, api_client):
    razorpay_refunds(razorpay_api, status="processed")
    refund_start(payment=paid, amount=Decimal("12.00"), reason="x")

    details = api_client.get("/api/wallet/details/").json()
    lines = api_client.get("/api/wallet/transactions/?type=refund").json()["results"]

    assert (details["balance"], details["total_refunded"]) == ("88.00", "12.00")
    assert [(line["type"], line["amount"]) for line in lines] == [("refund", "-12.00")]


# --- The amount rules, for any sequence --------------------------------------------------------------


@hypothesis_settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    spent=st.decimals(min_value=0, max_value=100, places=2),
    asks=st.lists(
        st.tuples(st.decimals(min_value=Decimal("0.01"), max_value=150, places=2), st.sampled_from(OUTCOMES)),
        max_size=5,
    ),
)
def test_refunds_never_exceed_the_payment_nor_the_wallet(make_order, razorpay_api, spent, asks):
    user = UserFactory()
    payment = paid_by(user, make_order)
    wallet = wallet_of(payment)
    if spent:
        wallet_adjust(wallet_id=wallet.pk, amount=-spent, reason="spent")
    if not any("refund" in str(mock.url) for mock in razorpay_api.registered()):  # once, not per example
        razorpay_refunds(razorpay_api)
    balance, held, unrefunded = Decimal("100.00") - spent, Decimal("0.00"), Decimal("100.00")

    for amount, outcome in asks:
        allowed = amount <= unrefunded and amount <= balance - held
        try:
            refund = refund_start(payment=payment, amount=amount, reason="property")
        except (RefundNotAllowed, InsufficientBalance):
            assert not allowed
            continue
        assert allowed
        unrefunded -= amount
        held += amount
        deliver(f"refund.{outcome}", refund, status="pending" if outcome == "created" else outcome)
        if outcome == "processed":
            held -= amount
            balance -= amount
        elif outcome == "failed":
            held -= amount
            unrefunded += amount

    wallet.refresh_from_db()
    assert (wallet.balance, wallet.held) == (balance, held)
    assert wallet.balance >= 0
    assert payment_unrefunded(payment=payment) == unrefunded >= 0
    assert wallet_audit(wallet_ids=[wallet.pk]).mismatches == []
