"""The SDK wrapper's signature checks (real HMAC) and its reading of payment entities."""

import pytest

from payments import razorpay_client
from tests.payments.fakes import WEBHOOK_SECRET, checkout_signature, sign


def test_checkout_signature_is_hmac_of_order_and_payment_ids(razorpay_keys):
    good = checkout_signature("order_A", "pay_B")

    assert razorpay_client.payment_signature_is_valid(order_id="order_A", payment_id="pay_B", signature=good)
    assert not razorpay_client.payment_signature_is_valid(order_id="order_A", payment_id="pay_C", signature=good)
    assert not razorpay_client.payment_signature_is_valid(order_id="order_X", payment_id="pay_B", signature=good)
    assert not razorpay_client.payment_signature_is_valid(order_id="order_A", payment_id="pay_B", signature=good[:-1])
    assert not razorpay_client.payment_signature_is_valid(order_id="order_A", payment_id="pay_B", signature="ü" * 64)


def test_webhook_signature_is_hmac_of_the_body_with_the_webhook_secret(razorpay_keys):
    body = '{"event": "payment.captured", "note": "₹ and ü"}'

    assert razorpay_client.webhook_signature_is_valid(body=body, signature=sign(body, WEBHOOK_SECRET))
    assert not razorpay_client.webhook_signature_is_valid(body=body + " ", signature=sign(body, WEBHOOK_SECRET))
    assert not razorpay_client.webhook_signature_is_valid(body=body, signature=checkout_signature("a", "b"))


@pytest.mark.parametrize(
    "entity",
    [
        {},
        {"id": "pay_1", "amount": 100, "currency": "INR"},  # no status
        {"id": "pay_1", "amount": True, "currency": "INR", "status": "captured"},
        {"id": "pay_1", "amount": -1, "currency": "INR", "status": "captured"},
        {"id": "", "amount": 100, "currency": "INR", "status": "captured"},
        {"id": "pay_1", "amount": 100, "currency": "INR", "status": "captured", "order_id": 7},
        ["not", "a", "mapping"],
    ],
)
def test_malformed_payment_entities_are_refused(entity):
    with pytest.raises(ValueError):
        razorpay_client.payment_from_entity(entity)


def test_payment_entity_becomes_a_typed_value():
    payment = razorpay_client.payment_from_entity(
        {"id": "pay_1", "amount": 100, "currency": "INR", "status": "failed", "order_id": None, "method": None}
    )

    assert payment == razorpay_client.RazorpayPayment(
        id="pay_1", order_id=None, amount_paise=100, currency="INR", status="failed", method="", error=""
    )
