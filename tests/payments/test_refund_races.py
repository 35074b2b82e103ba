"""An admin's refund, Razorpay's dashboard refund webhooks and transcription holds on one wallet,
all at once: whoever wins each lock, the wallet never goes below zero, nothing is given out twice,
and the ledger adds up. Real races on MariaDB/MySQL; in turn on SQLite."""

import uuid
from decimal import Decimal

import pytest
from django.test import Client

from payments.exceptions import RefundNotAllowed
from payments.models import Refund
from payments.services import payment_unrefunded, refund_start
from tests.payments.fakes import new_refund_id, post_webhook, refund_entity, refund_event
from tests.payments.test_races import run_all
from tests.payments.test_refunds import paid_by, razorpay_refunds, wallet_of
from transcriptions.models import wallet_subject
from wallet.audit import wallet_audit
from wallet.exceptions import InsufficientBalance
from wallet.models import Hold
from wallet.services import wallet_capture, wallet_reserve

ROUNDS = 3


def race_calls(user, payment, other_payment) -> list:
    """On one wallet: three admin refunds of `payment` (₹110 asked of ₹100), three dashboard
    refunds of ₹25 of `other_payment`, each delivered twice under both events, and three
    transcriptions of ₹30."""

    def admin(amount: str):
        def call():
            try:
                return refund_start(payment=payment, amount=Decimal(amount), reason="race").status
            except (RefundNotAllowed, InsufficientBalance) as exc:
                return exc.code

        return call

    def webhook(refund_id: str, event: str):
        entity = refund_entity(
            refund_id=refund_id,
            payment_id=other_payment.razorpay_payment_id,
            amount_paise=2500,
            status="processed" if event == "refund.processed" else "pending",
        )
        body = refund_event(event, entity)
        return lambda: post_webhook(Client(), body, event_id=f"evt_{refund_id}_{event}").status_code

    def transcription(minutes: str):
        def call():
            subject = wallet_subject(uuid.uuid4())
            try:
                wallet_reserve(user=user, subject=subject, minutes=Decimal(minutes))
            except InsufficientBalance as exc:
                return exc.code
            wallet_capture(subject=subject)
            return "charged"

        return call

    calls = [admin("40.00"), admin("40.00"), admin("30.00")]
    for refund_id in [new_refund_id() for _ in range(3)]:
        calls += [webhook(refund_id, "refund.created"), webhook(refund_id, "refund.processed")] * 2
    return calls + [transcription("30.00") for _ in range(3)]


@pytest.mark.mysql
@pytest.mark.django_db(transaction=True)
def test_refunds_webhooks_and_transcriptions_racing_for_one_wallet(user, make_order, razorpay_api):
    razorpay_refunds(razorpay_api, status="pending")
    for _ in range(ROUNDS):
        payment, other_payment = paid_by(user, make_order), paid_by(user, make_order)  # ₹200 more each round

        results = run_all(race_calls(user, payment, other_payment))

        assert not [result for result in results if isinstance(result, Exception)], results
        wallet = wallet_of(payment)
        assert wallet.balance >= 0 and 0 <= wallet.held <= wallet.balance
        admin = Refund.objects.filter(payment=payment).exclude(status="failed")
        assert sum(refund.amount for refund in admin) <= Decimal("100.00") and admin.count() <= 2
        assert payment_unrefunded(payment=payment) >= 0
        dashboard = Refund.objects.filter(payment=other_payment)
        assert dashboard.count() == 3  # each once, whatever the order its deliveries came in
        for refund in dashboard:
            assert refund.status == "processed"
            assert refund.flagged == (refund.from_wallet < refund.amount)
        held = sum(hold.amount for hold in Hold.objects.filter(wallet=wallet, status="held"))
        assert wallet.held == held
        assert wallet_audit().mismatches == []
