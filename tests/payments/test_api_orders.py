import base64
import json
from decimal import Decimal

import pytest
import requests
import responses
from django.urls import resolve
from prometheus_client import REGISTRY

from payments.models import Order
from payments.views import RazorpayWebhookView, WalletPaymentViewSet
from tests.payments.fakes import BASE_URL, KEY_ID, KEY_SECRET

URL = "/api/wallet/create_order/"
ORDERS_URL = f"{BASE_URL}/v1/orders"


def test_payment_urls_resolve_to_payment_views():
    assert resolve(URL).func.cls is WalletPaymentViewSet
    assert resolve("/api/wallet/verify_payment/").func.cls is WalletPaymentViewSet
    assert resolve("/api/payments/webhook/").func.cls is RazorpayWebhookView


@pytest.mark.django_db
def test_create_order_creates_a_razorpay_order_in_paise_and_keeps_it(api_client, user, razorpay_orders):
    response = api_client.post(URL, {"amount": "250.50"}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["amount"] == "250.50"
    assert body["amount_paise"] == 25050
    assert body["currency"] == "INR"
    assert body["key_id"] == KEY_ID
    order = Order.objects.get(razorpay_order_id=body["order_id"])
    assert (order.user, order.amount, order.amount_paise, order.status) == (
        user,
        Decimal("250.50"),
        25050,
        Order.Status.CREATED,
    )
    sent = razorpay_orders.calls[0].request
    asked = json.loads(sent.body)
    assert asked["amount"] == 25050
    assert asked["currency"] == "INR"
    assert asked["notes"] == {"user_id": str(user.pk)}
    assert asked["receipt"] == order.receipt
    assert len(order.receipt) <= 40
    assert sent.headers["Authorization"] == "Basic " + base64.b64encode(f"{KEY_ID}:{KEY_SECRET}".encode()).decode()
    assert sent.req_kwargs["timeout"] == 3.0


@pytest.mark.django_db
def test_each_order_gets_its_own_receipt(api_client, razorpay_orders):
    first = api_client.post(URL, {"amount": "10.00"}, format="json").json()
    second = api_client.post(URL, {"amount": "10.00"}, format="json").json()

    receipts = set(
        Order.objects.filter(razorpay_order_id__in=[first["order_id"], second["order_id"]]).values_list(
            "receipt", flat=True
        )
    )
    assert len(receipts) == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    "raw_json, paise",
    [
        ('{"amount": "1"}', 100),
        ('{"amount": "1.00"}', 100),
        ('{"amount": "99.9"}', 9990),
        ('{"amount": "100000.00"}', 10000000),
        ('{"amount": 100}', 10000),
        ('{"amount": 100.29}', 10029),  # a JSON number is read as a decimal, never through a float
        ('{"amount": 1e2}', 10000),
    ],
)
def test_create_order_accepts_amounts_as_strings_or_numbers(api_client, razorpay_orders, raw_json, paise):
    response = api_client.post(URL, data=raw_json, content_type="application/json")

    assert response.status_code == 201
    assert response.json()["amount_paise"] == paise
    assert json.loads(razorpay_orders.calls[0].request.body)["amount"] == paise


@pytest.mark.django_db
@pytest.mark.parametrize(
    "raw_json",
    [
        '{"amount": "-1.00"}',
        '{"amount": "0"}',
        '{"amount": "0.99"}',
        '{"amount": "100000.01"}',
        '{"amount": "1.234"}',
        '{"amount": 1.234}',
        '{"amount": "1.000"}',
        '{"amount": "abc"}',
        '{"amount": ""}',
        '{"amount": " 100"}',
        '{"amount": "1e2"}',
        '{"amount": "1_000"}',
        '{"amount": "\\u0967\\u0966\\u0966"}',  # Devanagari digits: Decimal() would read them as 100
        '{"amount": "NaN"}',
        '{"amount": null}',
        '{"amount": true}',
        '{"amount": ["100"]}',
        '{"amount": {"value": 100}}',
        '{"amount": -5}',
        "{}",
    ],
)
def test_create_order_refuses_bad_amounts_without_calling_razorpay(api_client, razorpay_orders, raw_json):
    response = api_client.post(URL, data=raw_json, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "amount" in response.json()["errors"]
    assert not razorpay_orders.calls
    assert not Order.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("raw", ['{"amount": NaN}', '{"amount": Infinity}', '{"amount": 1', "amount=100"])
def test_create_order_refuses_a_body_that_is_not_json(api_client, razorpay_orders, raw):
    response = api_client.post(URL, data=raw, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert not razorpay_orders.calls


@pytest.mark.django_db
def test_create_order_without_keys_is_503_payments_not_configured(api_client):
    with responses.RequestsMock() as mock:
        response = api_client.post(URL, {"amount": "100.00"}, format="json")

    assert response.status_code == 503
    assert response.json()["code"] == "payments_not_configured"
    assert not mock.calls
    assert not Order.objects.exists()


@pytest.mark.django_db
def test_razorpay_refusing_the_order_is_a_400_with_its_reason(api_client, razorpay_api):
    razorpay_api.post(
        ORDERS_URL,
        status=400,
        json={"error": {"code": "BAD_REQUEST_ERROR", "description": "Order amount exceeds maximum amount allowed."}},
    )

    response = api_client.post(URL, {"amount": "100000.00"}, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "detail": "Razorpay refused this request: Order amount exceeds maximum amount allowed.",
        "code": "payment_rejected",
    }
    assert not Order.objects.exists()


@pytest.mark.django_db
def test_razorpay_refusing_our_keys_is_an_outage_not_the_users_fault(api_client, razorpay_api):
    razorpay_api.post(
        ORDERS_URL, status=401, json={"error": {"code": "BAD_REQUEST_ERROR", "description": "Authentication failed"}}
    )

    response = api_client.post(URL, {"amount": "100.00"}, format="json")

    assert response.status_code == 503
    assert response.json()["code"] == "payment_provider_unavailable"
    assert "Authentication" not in response.json()["detail"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "answer",
    [
        {"status": 500, "body": "<html><body>Internal Server Error</body></html>", "content_type": "text/html"},
        {"status": 502, "json": {"error": {"code": "GATEWAY_ERROR", "description": "Gateway down"}}},
        {"status": 503, "json": {"error": {"code": "SERVER_ERROR", "description": "Try later"}}},
        {"status": 500, "json": ["not", "an", "object"]},
        {"status": 200, "body": "not json", "content_type": "text/plain"},
        {"status": 200, "json": {"entity": "order"}},  # no id
        {"status": 200, "json": {"id": "order_x", "amount": 1, "currency": "INR"}},  # not the amount asked
        {"body": requests.exceptions.ReadTimeout("read timed out")},
        {"body": requests.exceptions.ConnectTimeout("connect timed out")},
        {"body": requests.exceptions.ConnectionError("connection refused")},
    ],
)
def test_razorpay_failing_is_503_payment_provider_unavailable(api_client, razorpay_api, answer):
    razorpay_api.post(ORDERS_URL, **answer)
    labels = {"provider": "razorpay", "kind": "payment_provider_unavailable"}
    failures_before = REGISTRY.get_sample_value("provider_errors_total", labels) or 0.0

    response = api_client.post(URL, {"amount": "100.00"}, format="json")

    assert response.status_code == 503
    assert response.json() == {
        "detail": "The payment provider is not answering. Please try again in a minute.",
        "code": "payment_provider_unavailable",
    }
    assert not Order.objects.exists()
    assert REGISTRY.get_sample_value("provider_errors_total", labels) == failures_before + 1


@pytest.mark.django_db
def test_create_order_needs_a_signed_in_user(anon_client, razorpay_orders):
    response = anon_client.post(URL, {"amount": "100.00"}, format="json")

    assert response.status_code == 401
    assert not razorpay_orders.calls


@pytest.mark.django_db
@pytest.mark.parametrize("raw_json", ['{"amount": 1e30}', '{"amount": "1000000000000000000000000000000"}'])
def test_create_order_refuses_a_huge_amount_as_too_large(api_client, razorpay_orders, raw_json):
    response = api_client.post(URL, data=raw_json, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["errors"]["amount"] == ["The largest top-up is ₹100000.00."]
    assert not razorpay_orders.calls
