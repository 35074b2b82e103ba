"""Whatever amount the SPA sends, create_order refuses it with a 400 or orders exactly amount times 100 paise."""

import json
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from payments.services import rupees_to_paise

URL = "/api/wallet/create_order/"
_FIXTURES_ARE_SHARED = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

amount_strings = st.one_of(
    st.text(max_size=12),
    st.from_regex(r"\A[+-]?[0-9]{0,7}(\.[0-9]{0,4})?\Z"),
    st.decimals(min_value=-10, max_value=200_000, places=2, allow_nan=False).map(str),
    st.decimals(min_value=-10, max_value=200_000, places=3, allow_nan=False).map(str),
    st.integers(min_value=-10, max_value=10**7).map(str),
)
json_numbers = st.from_regex(r"\A-?(0|[1-9][0-9]{0,7})(\.[0-9]{1,4})?([eE][+-]?[0-9])?\Z")


def _sent_paise(mock) -> int:
    return json.loads(mock.calls[-1].request.body)["amount"]


def _refused_or_exact(response, mock, calls_before: int, sent: str) -> None:
    if response.status_code == 400:
        assert response.json()["code"] == "invalid"
        assert len(mock.calls) == calls_before  # nothing reached Razorpay
        return
    assert response.status_code == 201, response.content
    body = response.json()
    amount = Decimal(sent)
    exact = amount * 100
    assert Decimal("1.00") <= amount <= Decimal("100000.00")
    assert body["amount_paise"] == exact == _sent_paise(mock)
    assert Decimal(body["amount"]) == amount


@pytest.mark.django_db
@_FIXTURES_ARE_SHARED
@given(amount=amount_strings)
def test_any_amount_string_is_refused_or_ordered_to_the_exact_paisa(api_client, razorpay_orders, amount):
    before = len(razorpay_orders.calls)

    response = api_client.post(URL, {"amount": amount}, format="json")

    _refused_or_exact(response, razorpay_orders, before, amount)


@pytest.mark.django_db
@_FIXTURES_ARE_SHARED
@given(literal=json_numbers)
def test_any_json_number_is_refused_or_ordered_to_the_exact_paisa(api_client, razorpay_orders, literal):
    before = len(razorpay_orders.calls)

    response = api_client.post(URL, data=f'{{"amount": {literal}}}', content_type="application/json")

    _refused_or_exact(response, razorpay_orders, before, literal)


@pytest.mark.django_db
@_FIXTURES_ARE_SHARED
@given(amount=st.decimals(min_value=1, max_value=100_000, places=2), as_string=st.booleans())
def test_every_amount_within_limits_is_accepted(api_client, razorpay_orders, amount, as_string):
    data = f'{{"amount": "{amount}"}}' if as_string else f'{{"amount": {amount}}}'

    response = api_client.post(URL, data=data, content_type="application/json")

    assert response.status_code == 201
    assert response.json()["amount_paise"] == amount * 100 == _sent_paise(razorpay_orders)


@given(st.decimals(min_value=0, max_value=10**9, places=2))
def test_rupees_to_paise_is_exact(amount):
    assert rupees_to_paise(amount) == amount * 100


@given(st.decimals(min_value=0, max_value=10**9, places=4).filter(lambda d: d * 100 % 1))
def test_rupees_to_paise_refuses_fractions_of_a_paisa(amount):
    with pytest.raises(ValueError):
        rupees_to_paise(amount)
