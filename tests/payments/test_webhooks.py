import json
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.test import Client
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle, UserRateThrottle
from rest_framework.views import APIView

from payments.models import Order, Payment, WebhookEvent
from tests.payments.fakes import (
    WEBHOOK_URL,
    new_payment_id,
    payment_entity,
    post_webhook,
    sign,
    verify_body,
    webhook_event,
)
from wallet.models import Transaction

VERIFY_URL = "/api/wallet/verify_payment/"


def credited(user) -> list[Decimal]:
    return [line.amount for line in Transaction.objects.filter(wallet__user=user, payment_id__isnull=False)]


def captured(order, payment_id=None, event="payment.captured", amount_paise=None) -> dict:
    entity = payment_entity(
        payment_id=payment_id or new_payment_id(),
        order_id=order.razorpay_order_id,
        amount_paise=order.amount_paise if amount_paise is None else amount_paise,
    )
    return webhook_event(event, entity)


def failed(order, payment_id=None) -> dict:
    entity = payment_entity(
        payment_id=payment_id or new_payment_id(),
        order_id=order.razorpay_order_id,
        amount_paise=order.amount_paise,
        status="failed",
    )
    return webhook_event("payment.failed", entity)


@pytest.mark.django_db
@pytest.mark.parametrize("event", ["payment.captured", "order.paid"])
def test_capture_webhook_credits_the_order_once(client, user, order, event):
    payment_id = new_payment_id()

    response = post_webhook(client, captured(order, payment_id, event=event), event_id="evt_1")

    assert response.status_code == 200
    assert response.json() == {"status": "processed"}
    assert credited(user) == [Decimal("100.00")]
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    payment = Payment.objects.get(razorpay_payment_id=payment_id)
    assert (payment.status, payment.amount_paise, payment.method, payment.flagged) == ("captured", 10000, "upi", False)
    assert WebhookEvent.objects.get(event_id="evt_1").processed_at is not None


@pytest.mark.django_db
@pytest.mark.parametrize(
    "signature",
    ["0" * 64, sign(b"some other body", "test_webhook_secret_thisisnotreal"), "é", ""],
)
def test_webhook_with_a_bad_or_missing_signature_is_400_and_changes_nothing(client, user, order, signature):
    response = post_webhook(client, captured(order), event_id="evt_1", signature=signature)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_signature"
    assert credited(user) == []
    assert not WebhookEvent.objects.exists()
    assert not Payment.objects.exists()


@pytest.mark.django_db
def test_webhook_without_the_signature_header_is_400(client, user, order):
    body = json.dumps(captured(order)).encode()

    response = client.post(WEBHOOK_URL, data=body, content_type="application/json", HTTP_X_RAZORPAY_EVENT_ID="e1")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_signature"
    assert credited(user) == []


@pytest.mark.django_db
def test_webhook_signed_with_the_key_secret_instead_of_the_webhook_secret_is_400(client, user, order):
    response = post_webhook(client, captured(order), event_id="evt_1", secret="test_key_secret_thisisnotreal")

    assert response.status_code == 400


@pytest.mark.django_db
def test_signature_is_checked_over_the_raw_body_as_sent(client, user, order):
    # Key order and spacing that re-serialising the JSON would change: the signature must still match.
    event = captured(order)
    body = json.dumps(event, indent=3, sort_keys=True, ensure_ascii=False).replace(": ", " :  ").encode()

    response = post_webhook(client, body, event_id="evt_1")

    assert response.status_code == 200
    assert credited(user) == [Decimal("100.00")]


@pytest.mark.django_db
def test_duplicate_event_id_is_acknowledged_and_ignored(client, user, order, make_order):
    first = post_webhook(client, captured(order), event_id="evt_same")
    # Same event id, even with another payload: Razorpay's id is the key.
    again = post_webhook(client, captured(make_order(user)), event_id="evt_same")

    assert first.json() == {"status": "processed"}
    assert again.status_code == 200
    assert again.json() == {"status": "duplicate"}
    assert credited(user) == [Decimal("100.00")]
    assert WebhookEvent.objects.count() == 1


@pytest.mark.django_db
def test_without_an_event_id_the_same_body_counts_as_the_same_event(client, user, order):
    event = captured(order)

    responses = [post_webhook(client, event).json() for _ in range(2)]

    assert responses == [{"status": "processed"}, {"status": "duplicate"}]
    assert WebhookEvent.objects.get().event_id.startswith("sha256:")


@pytest.mark.django_db
def test_payment_captured_and_order_paid_for_one_payment_credit_once(client, user, order):
    payment_id = new_payment_id()

    post_webhook(client, captured(order, payment_id), event_id="evt_1")
    post_webhook(client, captured(order, payment_id, event="order.paid"), event_id="evt_2")

    assert credited(user) == [Decimal("100.00")]
    assert WebhookEvent.objects.count() == 2


@pytest.mark.django_db
def test_failed_attempt_then_a_capture_still_credits(client, user, order):
    post_webhook(client, failed(order), event_id="evt_1")
    order.refresh_from_db()
    assert order.status == Order.Status.FAILED
    assert credited(user) == []

    post_webhook(client, captured(order), event_id="evt_2")

    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert credited(user) == [Decimal("100.00")]
    assert sorted(Payment.objects.values_list("status", flat=True)) == ["captured", "failed"]


@pytest.mark.django_db
def test_failure_of_a_payment_then_its_capture_ends_captured(client, user, order):
    payment_id = new_payment_id()

    post_webhook(client, failed(order, payment_id), event_id="evt_1")
    post_webhook(client, captured(order, payment_id), event_id="evt_2")

    payment = Payment.objects.get(razorpay_payment_id=payment_id)
    assert payment.status == Payment.Status.CAPTURED
    assert credited(user) == [Decimal("100.00")]


@pytest.mark.django_db
def test_a_late_failure_does_not_undo_a_capture(client, user, order):
    payment_id = new_payment_id()

    post_webhook(client, captured(order, payment_id), event_id="evt_1")
    post_webhook(client, failed(order, payment_id), event_id="evt_2")

    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert Payment.objects.get(razorpay_payment_id=payment_id).status == Payment.Status.CAPTURED
    assert credited(user) == [Decimal("100.00")]


@pytest.mark.django_db
def test_webhook_before_verify_credits_once(client, api_client, user, order):
    payment_id = new_payment_id()

    post_webhook(client, captured(order, payment_id), event_id="evt_1")
    response = api_client.post(VERIFY_URL, verify_body(order.razorpay_order_id, payment_id), format="json")

    assert response.status_code == 200
    assert response.json()["balance"] == "100.00"
    assert credited(user) == [Decimal("100.00")]
    assert Payment.objects.get(razorpay_payment_id=payment_id).status == Payment.Status.CAPTURED


@pytest.mark.django_db
def test_webhook_after_verify_credits_nothing_more_and_records_the_capture(client, api_client, user, order):
    payment_id = new_payment_id()

    api_client.post(VERIFY_URL, verify_body(order.razorpay_order_id, payment_id), format="json")
    response = post_webhook(client, captured(order, payment_id), event_id="evt_1")

    assert response.status_code == 200
    assert credited(user) == [Decimal("100.00")]
    payment = Payment.objects.get(razorpay_payment_id=payment_id)
    assert (payment.status, payment.amount_paise) == (Payment.Status.CAPTURED, 10000)


@pytest.mark.django_db
@pytest.mark.parametrize("amount_paise, currency", [(100, "INR"), (10001, "INR"), (10000, "USD")])
def test_capture_of_another_amount_is_flagged_and_not_credited(client, user, order, amount_paise, currency):
    payment_id = new_payment_id()
    entity = payment_entity(
        payment_id=payment_id, order_id=order.razorpay_order_id, amount_paise=amount_paise, currency=currency
    )

    post_webhook(client, webhook_event("payment.captured", entity), event_id="evt_1")
    post_webhook(client, webhook_event("order.paid", entity), event_id="evt_2")

    assert credited(user) == []
    payment = Payment.objects.get(razorpay_payment_id=payment_id)
    assert payment.flagged
    order.refresh_from_db()
    assert order.status == Order.Status.CREATED


@pytest.mark.django_db
def test_a_payment_flagged_after_verify_stays_credited_and_flagged(client, api_client, user, order):
    payment_id = new_payment_id()

    api_client.post(VERIFY_URL, verify_body(order.razorpay_order_id, payment_id), format="json")
    post_webhook(client, captured(order, payment_id, amount_paise=1), event_id="evt_1")

    assert credited(user) == [Decimal("100.00")]
    assert Payment.objects.get(razorpay_payment_id=payment_id).flagged


@pytest.mark.django_db
def test_capture_of_an_order_we_did_not_create_is_acknowledged_and_changes_nothing(client, user, razorpay_keys):
    entity = payment_entity(payment_id=new_payment_id(), order_id="order_elsewhere000", amount_paise=5000)

    response = post_webhook(client, webhook_event("payment.captured", entity), event_id="evt_1")

    assert response.status_code == 200
    assert not Payment.objects.exists()
    assert WebhookEvent.objects.get().event == "payment.captured"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "event",
    [
        {"event": "refund.processed", "payload": {"refund": {"entity": {"id": "rfnd_1"}}}},
        {"event": "payment.captured", "payload": {"payment": {"entity": {"id": "pay_1", "amount": "100"}}}},
        {"event": "payment.captured", "payload": []},
    ],
)
def test_signed_events_we_cannot_use_are_stored_and_acknowledged(client, user, order, event):
    response = post_webhook(client, event, event_id="evt_1")

    assert response.status_code == 200
    assert WebhookEvent.objects.get().payload == event
    assert credited(user) == []


@pytest.mark.django_db
@pytest.mark.parametrize("body", [b"not json", b'["a list"]', b'{"no": "event"}', b"\xff\xfe invalid utf-8"])
def test_signed_body_that_is_not_an_event_is_400(client, razorpay_keys, body):
    response = post_webhook(client, body, event_id="evt_1")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_payload"
    assert not WebhookEvent.objects.exists()


@pytest.mark.django_db
def test_webhook_without_a_webhook_secret_is_503(client, settings):
    settings.RAZORPAY_WEBHOOK_SECRET = ""

    response = post_webhook(client, {"event": "payment.captured"}, event_id="evt_1")

    assert response.status_code == 503
    assert response.json()["code"] == "payments_not_configured"


@pytest.fixture
def strict_throttling(monkeypatch):
    """One request a minute per user and per anonymous client, for every view that does not opt out."""
    monkeypatch.setattr(APIView, "throttle_classes", [UserRateThrottle, AnonRateThrottle])
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"user": "1/min", "anon": "1/min"})
    cache.clear()
    yield
    cache.clear()


@pytest.mark.django_db
def test_webhook_needs_no_jwt_no_csrf_token_and_is_not_throttled(api_client, user, order, strict_throttling):
    browser_like = Client(enforce_csrf_checks=True)

    webhooks = [post_webhook(browser_like, captured(order), event_id=f"evt_{n}").status_code for n in range(3)]
    verifies = [
        api_client.post(VERIFY_URL, verify_body(order.razorpay_order_id, new_payment_id()), format="json").status_code
        for _ in range(2)
    ]

    assert webhooks == [200, 200, 200]
    assert verifies == [200, 429]  # the same limits do apply to the user's own endpoints
