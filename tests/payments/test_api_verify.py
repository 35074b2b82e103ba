from decimal import Decimal

import pytest
from prometheus_client import REGISTRY

from payments.models import Order, Payment
from tests.conftest import client_for
from tests.payments.fakes import (
    checkout_signature,
    new_payment_id,
    payment_entity,
    post_webhook,
    verify_body,
    webhook_event,
)
from wallet.models import Transaction

URL = "/api/wallet/verify_payment/"


def credits_of(user) -> list[Transaction]:
    return list(Transaction.objects.filter(wallet__user=user, payment_id__isnull=False))


@pytest.mark.django_db
def test_verify_credits_the_orders_amount_and_answers_the_new_wallet(api_client, user, order):
    payment_id = new_payment_id()

    response = api_client.post(URL, verify_body(order.razorpay_order_id, payment_id), format="json")

    assert response.status_code == 200
    assert response.json() == {
        "balance": "100.00",
        "held": "0.00",
        "available": "100.00",
        "currency": "INR",
        "demo_minutes_remaining": "10.00",
        "demo_minutes_held": "0.00",
        "demo_minutes_available": "10.00",
        "rate_per_minute": "1.00",
        "total_credited": "100.00",
        "total_spent": "0.00",
        "total_refunded": "0.00",
        "total_minutes_transcribed": "0.00",
    }
    [line] = credits_of(user)
    assert (line.type, line.amount, line.payment_id) == (Transaction.Type.CREDIT, Decimal("100.00"), payment_id)
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert Payment.objects.get(razorpay_payment_id=payment_id).order == order


@pytest.mark.django_db
def test_second_verify_of_same_payment_answers_the_same_and_credits_once(api_client, user, order):
    body = verify_body(order.razorpay_order_id, new_payment_id())

    first = api_client.post(URL, body, format="json")
    second = api_client.post(URL, body, format="json")

    assert second.status_code == 200
    assert second.json() == first.json()
    assert len(credits_of(user)) == 1


@pytest.mark.django_db
def test_amount_sent_by_the_client_is_ignored(api_client, user, order):
    body = {**verify_body(order.razorpay_order_id, new_payment_id()), "amount": "100000.00"}

    response = api_client.post(URL, body, format="json")

    assert response.json()["balance"] == "100.00"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "signature",
    [
        "0" * 64,
        checkout_signature("order_x", "pay_y", secret="not-our-secret"),
        "résumé-not-ascii",
    ],
)
def test_forged_signature_is_400_and_credits_nothing(api_client, user, order, signature):
    body = verify_body(order.razorpay_order_id, new_payment_id(), signature=signature)

    response = api_client.post(URL, body, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_signature"
    assert credits_of(user) == []
    order.refresh_from_db()
    assert order.status == Order.Status.CREATED


@pytest.mark.django_db
def test_signature_of_another_order_is_400(api_client, user, make_order):
    # Pay ₹1 on one order, then present that payment as if it paid a ₹1000 order.
    cheap, dear = make_order(user, "1.00"), make_order(user, "1000.00")
    payment_id = new_payment_id()
    signature = checkout_signature(cheap.razorpay_order_id, payment_id)

    response = api_client.post(URL, verify_body(dear.razorpay_order_id, payment_id, signature), format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_signature"
    assert credits_of(user) == []


@pytest.mark.django_db
def test_another_users_order_is_400_and_credits_no_one(other_client, other_user, user, order):
    # The other user replays a genuine checkout result of `user`'s order.
    response = other_client.post(URL, verify_body(order.razorpay_order_id, new_payment_id()), format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "unknown_order"
    assert credits_of(user) == credits_of(other_user) == []


@pytest.mark.django_db
def test_order_we_never_created_is_400(api_client, user, razorpay_keys):
    response = api_client.post(URL, verify_body("order_unknown00000", new_payment_id()), format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "unknown_order"


@pytest.mark.django_db
def test_missing_and_oversized_fields_are_400_with_errors(api_client, razorpay_keys):
    response = api_client.post(URL, {"razorpay_order_id": "o" * 65}, format="json")

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"razorpay_order_id", "razorpay_payment_id", "razorpay_signature"}


@pytest.mark.django_db
def test_verify_without_keys_is_503(api_client, user):
    response = api_client.post(URL, verify_body("order_x", "pay_y"), format="json")

    assert response.status_code == 503
    assert response.json()["code"] == "payments_not_configured"


@pytest.mark.django_db
def test_verify_of_a_payment_flagged_for_its_amount_is_409_and_credits_nothing(api_client, client, user, order):
    payment_id = new_payment_id()
    tampered = payment_entity(payment_id=payment_id, order_id=order.razorpay_order_id, amount_paise=100)
    post_webhook(client, webhook_event("payment.captured", tampered), event_id="evt_tampered")

    response = api_client.post(URL, verify_body(order.razorpay_order_id, payment_id), format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "payment_under_review"
    assert credits_of(user) == []


@pytest.mark.django_db
def test_verify_needs_a_signed_in_user(anon_client, order):
    response = anon_client.post(URL, verify_body(order.razorpay_order_id, new_payment_id()), format="json")

    assert response.status_code == 401


@pytest.mark.django_db
def test_each_user_is_credited_for_their_own_orders_only(user, other_user, make_order):
    mine, theirs = make_order(user, "5.00"), make_order(other_user, "7.00")

    client_for(user).post(URL, verify_body(mine.razorpay_order_id, new_payment_id()), format="json")
    client_for(other_user).post(URL, verify_body(theirs.razorpay_order_id, new_payment_id()), format="json")

    assert [line.amount for line in credits_of(user)] == [Decimal("5.00")]
    assert [line.amount for line in credits_of(other_user)] == [Decimal("7.00")]


@pytest.mark.django_db
def test_money_credited_is_counted_once_for_prometheus(api_client, order, django_capture_on_commit_callbacks):
    body = verify_body(order.razorpay_order_id, new_payment_id())
    before = REGISTRY.get_sample_value("credited_rupees_total") or 0.0

    with django_capture_on_commit_callbacks(execute=True):
        api_client.post(URL, body, format="json")
        api_client.post(URL, body, format="json")

    assert REGISTRY.get_sample_value("credited_rupees_total") == before + 100.0
