from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.wallet.conftest import fund, make_transcription
from transcriptions.models import wallet_subject
from wallet.models import Transaction
from wallet.services import wallet_capture, wallet_credit, wallet_reserve

DETAILS_URL = "/api/wallet/details/"
TRANSACTIONS_URL = "/api/wallet/transactions/"
D = Decimal


def test_new_users_wallet_details(api_client):
    response = api_client.get(DETAILS_URL)

    assert response.status_code == 200
    assert response.json() == {
        "balance": "0.00",
        "held": "0.00",
        "available": "0.00",
        "currency": "INR",
        "demo_minutes_remaining": "10.00",
        "demo_minutes_held": "0.00",
        "demo_minutes_available": "10.00",
        "rate_per_minute": "1.00",
        "total_credited": "0.00",
        "total_spent": "0.00",
        "total_refunded": "0.00",
        "total_minutes_transcribed": "0.00",
    }


def test_wallet_details_after_paying_for_transcriptions(api_client, user, other_user, settings):
    settings.RATE_PER_MINUTE = D("2.50")
    fund(user, balance=D("100.00"))
    fund(other_user, balance=D("7.00"))
    done, pending = make_transcription(user, D("12.00")), make_transcription(user, D("3.00"))
    wallet_reserve(user=user, subject=wallet_subject(done.pk), minutes=D("12.00"))  # 10 demo minutes, then 2 at ₹2.50
    wallet_capture(subject=wallet_subject(done.pk))
    wallet_reserve(user=user, subject=wallet_subject(pending.pk), minutes=D("3.00"))

    body = api_client.get(DETAILS_URL).json()

    assert body == {
        "balance": "95.00",
        "held": "7.50",
        "available": "87.50",
        "currency": "INR",
        "demo_minutes_remaining": "0.00",
        "demo_minutes_held": "0.00",
        "demo_minutes_available": "0.00",
        "rate_per_minute": "2.50",
        "total_credited": "100.00",
        "total_spent": "5.00",
        "total_refunded": "0.00",
        "total_minutes_transcribed": "12.00",
    }


@pytest.mark.parametrize("url", [DETAILS_URL, TRANSACTIONS_URL])
def test_wallet_endpoints_need_a_token(anon_client, db, url):
    response = anon_client.get(url)

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize("url", [DETAILS_URL, TRANSACTIONS_URL])
def test_wallet_endpoints_are_read_only(api_client, url):
    response = api_client.post(url, {})

    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_transactions_are_the_callers_own_newest_first(api_client, user, other_user):
    wallet_credit(user=other_user, amount=D("99.00"), payment_id="pay_other")
    wallet_credit(user=user, amount=D("10.00"), payment_id="pay_1")
    transcription = make_transcription(user, D("11.50"))
    wallet_reserve(user=user, subject=wallet_subject(transcription.pk), minutes=D("11.50"))
    wallet_capture(subject=wallet_subject(transcription.pk))

    response = api_client.get(TRANSACTIONS_URL)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert [line["type"] for line in body["results"]] == ["debit", "credit", "credit"]
    assert "pay_other" not in str(body)
    debit = body["results"][0]
    assert debit == {
        "id": str(Transaction.objects.get(type="debit").public_id),  # a UUID, like every other id
        "type": "debit",
        "amount": "-1.50",
        "demo_minutes": "-10.00",
        "minutes": "11.50",
        "balance_before": "10.00",
        "balance_after": "8.50",
        "demo_minutes_before": "10.00",
        "demo_minutes_after": "0.00",
        "description": "Transcription of 11.50 minutes",
        "payment_id": None,
        "transcription": str(transcription.pk),
        "created_at": debit["created_at"],
    }


def test_transactions_are_paginated_twenty_a_page(api_client, user):
    for n in range(24):
        wallet_credit(user=user, amount=D("1.00"), payment_id=f"pay_{n}")

    first = api_client.get(TRANSACTIONS_URL).json()
    second = api_client.get(first["next"]).json()

    assert (first["count"], len(first["results"]), first["previous"]) == (25, 20, None)
    assert first["results"][0]["payment_id"] == "pay_23"
    assert (len(second["results"]), second["next"]) == (5, None)
    assert second["results"][-1]["description"] == "Demo minutes for a new account"


def test_transactions_filter_by_type(api_client, user):
    fund(user, balance=D("5.00"), demo_minutes=D("3.00"))  # a credit and an adjustment

    only_adjustments = api_client.get(TRANSACTIONS_URL, {"type": "adjustment"}).json()
    credits_and_adjustments = api_client.get(TRANSACTIONS_URL + "?type=credit&type=adjustment").json()

    assert [line["type"] for line in only_adjustments["results"]] == ["adjustment"]
    assert credits_and_adjustments["count"] == 3


def test_transactions_filter_by_date(api_client, user):
    first, _ = wallet_credit(user=user, amount=D("1.00"), payment_id="pay_1")
    second, _ = wallet_credit(user=user, amount=D("2.00"), payment_id="pay_2")
    tomorrow = (timezone.now() + timedelta(days=1)).date().isoformat()

    after = api_client.get(TRANSACTIONS_URL, {"created_after": second.created_at.isoformat()}).json()
    before = api_client.get(
        TRANSACTIONS_URL,
        {"created_after": first.created_at.isoformat(), "created_before": second.created_at.isoformat()},
    ).json()

    assert [line["id"] for line in after["results"]] == [str(second.public_id)]
    assert [line["id"] for line in before["results"]] == [str(first.public_id)]
    assert api_client.get(TRANSACTIONS_URL, {"created_after": tomorrow}).json()["count"] == 0
    assert api_client.get(TRANSACTIONS_URL, {"created_before": tomorrow}).json()["count"] == 3


@pytest.mark.parametrize(
    "params, field",
    [
        ({"type": "gift"}, "type"),
        ({"created_after": "yesterday"}, "created_after"),
        ({"created_before": "2025-13-45"}, "created_before"),
    ],
)
def test_transactions_bad_filter_is_400(api_client, params, field):
    response = api_client.get(TRANSACTIONS_URL, params)

    assert response.status_code == 400
    body = response.json()
    assert (body["code"], list(body["errors"])) == ("invalid", [field])


def test_transactions_page_past_the_end_is_404(api_client):
    response = api_client.get(TRANSACTIONS_URL, {"page": 9})

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
