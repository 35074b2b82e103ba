import json
import re
import uuid
from decimal import Decimal

import pytest
import responses

from payments.models import Order
from payments.services import order_create
from tests.payments.fakes import BASE_URL, KEY_ID, KEY_SECRET, WEBHOOK_SECRET


@pytest.fixture
def razorpay_keys(settings):
    settings.RAZORPAY_KEY_ID = KEY_ID
    settings.RAZORPAY_KEY_SECRET = KEY_SECRET
    settings.RAZORPAY_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.RAZORPAY_BASE_URL = BASE_URL
    settings.RAZORPAY_TIMEOUT_SECONDS = 3.0
    return settings


@pytest.fixture
def razorpay_api(razorpay_keys):
    """Razorpay's HTTP API: every request the SDK sends goes here, and anything unregistered fails."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def _order_created(request):
    asked = json.loads(request.body)
    order = {
        "id": f"order_{uuid.uuid4().hex[:14]}",
        "entity": "order",
        "amount": asked["amount"],
        "amount_paid": 0,
        "amount_due": asked["amount"],
        "currency": asked["currency"],
        "receipt": asked["receipt"],
        "status": "created",
        "attempts": 0,
        "notes": asked["notes"],
        "created_at": 1764000000,
    }
    return 200, {}, json.dumps(order)


@pytest.fixture
def razorpay_orders(razorpay_api):
    """Razorpay creating every order it is asked for, as asked."""
    razorpay_api.add_callback(
        responses.POST, f"{BASE_URL}/v1/orders", callback=_order_created, content_type="application/json"
    )
    return razorpay_api


@pytest.fixture
def make_order(razorpay_orders):
    def make(user, amount: str = "100.00") -> Order:
        return order_create(user=user, amount=Decimal(amount))

    return make


@pytest.fixture
def order(make_order, user) -> Order:
    return make_order(user)


@pytest.fixture
def no_refunds(razorpay_api):
    """Razorpay listing no refunds for any payment (what reconciliation asks after the payments)."""
    razorpay_api.add(
        responses.GET,
        re.compile(re.escape(BASE_URL) + r"/v1/payments/[^/]+/refunds"),
        json={"entity": "collection", "count": 0, "items": []},
    )
    return razorpay_api
