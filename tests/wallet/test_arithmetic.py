from decimal import ROUND_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wallet.services import billable_minutes, quote

CENT = Decimal("0.01")
cents = st.integers(min_value=0, max_value=10_000_00).map(lambda n: Decimal(n) / 100)
rates = st.integers(min_value=1, max_value=100_0000).map(lambda n: Decimal(n) / 10_000)  # up to 4 places
seconds = st.integers(min_value=0, max_value=24 * 3600)


@pytest.mark.parametrize(
    "duration, expected",
    [
        (0, "0.00"),
        (1, "0.02"),  # 1/60 = 0.0166.. rounds up
        (60, "1.00"),
        (61, "1.02"),
        (Decimal("59.001"), "1.00"),  # a started second counts whole
        ("90.5", "1.52"),  # 91 s
        (3600, "60.00"),
    ],
)
def test_billable_minutes_round_seconds_then_minutes_up(duration, expected):
    assert billable_minutes(duration) == Decimal(expected)


def test_negative_duration_is_refused():
    with pytest.raises(ValueError):
        billable_minutes(-1)


def test_demo_minutes_are_used_first_then_money():
    cost = quote(minutes=Decimal("15.00"), demo_minutes_available=Decimal("10.00"), rate=Decimal("1.00"))

    assert (cost.demo_minutes_used, cost.charged_minutes, cost.amount) == (
        Decimal("10.00"),
        Decimal("5.00"),
        Decimal("5.00"),
    )


def test_cost_rounds_up_to_the_paisa():
    cost = quote(minutes=Decimal("1.01"), demo_minutes_available=Decimal("0"), rate=Decimal("1.37"))

    assert cost.amount == Decimal("1.39")  # 1.3837


def test_quote_reads_rate_from_settings(settings):
    settings.RATE_PER_MINUTE = Decimal("2.50")

    assert quote(minutes=Decimal("3.00"), demo_minutes_available=Decimal("1.00")).amount == Decimal("5.00")


@given(seconds=seconds)
def test_billable_minutes_never_undercharge_and_overcharge_less_than_a_step(seconds):
    minutes = billable_minutes(seconds)

    assert minutes == minutes.quantize(CENT)
    assert 0 <= minutes - Decimal(seconds) / 60 < CENT


@given(fraction=st.integers(min_value=1, max_value=999), whole=seconds)
def test_a_started_second_is_billed_whole(fraction, whole):
    assert billable_minutes(Decimal(whole) + Decimal(fraction) / 1000) == billable_minutes(whole + 1)


@given(minutes=cents, demo=cents, rate=rates)
def test_quote_splits_minutes_exactly_and_never_costs_a_negative_amount(minutes, demo, rate):
    cost = quote(minutes=minutes, demo_minutes_available=demo, rate=rate)

    assert cost.amount >= 0
    assert cost.amount == cost.amount.quantize(CENT)
    assert 0 <= cost.demo_minutes_used <= min(demo, minutes)
    assert cost.demo_minutes_used + cost.charged_minutes == minutes
    assert 0 <= cost.amount - cost.charged_minutes * rate < CENT


@given(minutes=cents, demo=st.integers(min_value=-1000, max_value=-1).map(lambda n: Decimal(n) / 100), rate=rates)
def test_negative_demo_minutes_never_reduce_the_cost(minutes, demo, rate):
    cost = quote(minutes=minutes, demo_minutes_available=demo, rate=rate)

    assert cost.demo_minutes_used == 0
    assert cost.amount == (minutes * rate).quantize(CENT, rounding=ROUND_UP)


@given(seconds=seconds, demo=cents, rate=rates)
def test_whole_flow_is_within_a_paisa_and_one_minute_step_of_the_exact_price(seconds, demo, rate):
    """From a duration to rupees: at most a paisa under, at most a paisa plus one 0.01-minute step over."""
    cost = quote(minutes=billable_minutes(seconds), demo_minutes_available=demo, rate=rate)
    exact = max(Decimal(seconds) / 60 - demo, Decimal(0)) * rate

    assert cost.amount - exact >= -CENT
    assert cost.amount - exact <= CENT + CENT * rate
