"""A stateful property test: any sequence of wallet operations keeps the figures non-negative,
equal to a plain model of the rules, and the ledger audit clean."""

import uuid
from decimal import ROUND_UP, Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import override_settings
from hypothesis import HealthCheck, assume, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, multiple, rule, run_state_machine_as_test

from tests.factories import UserFactory
from tests.wallet.conftest import make_transcription
from transcriptions.models import wallet_subject
from wallet.exceptions import InsufficientBalance, NothingToRefund
from wallet.models import Hold, Wallet
from wallet.services import (
    wallet_adjust,
    wallet_capture,
    wallet_credit,
    wallet_refund,
    wallet_release,
    wallet_reserve,
)

CENT = Decimal("0.01")
RATE = Decimal("1.37")  # not a round number, so rounding up is exercised


def hundredths(low: int, high: int) -> st.SearchStrategy[Decimal]:
    return st.integers(min_value=low, max_value=high).map(lambda n: Decimal(n) / 100)


class LedgerMachine(RuleBasedStateMachine):
    payments = Bundle("payments")
    reserved = Bundle("reserved")

    def __init__(self) -> None:
        super().__init__()
        self.user = UserFactory()
        self.wallet_id = self.user.wallet.pk
        demo = self.user.wallet.demo_minutes_remaining
        self.expected = {"balance": Decimal("0.00"), "held": Decimal("0.00"), "demo": demo, "demo_held": Decimal(0)}
        self.holds: dict = {}  # transcription id -> [amount, demo minutes, status]
        self.refunded: set = set()

    # --- Money in ---------------------------------------------------------------------------

    @rule(target=payments, amount=hundredths(1, 5000))
    def credit(self, amount):
        payment_id = f"pay_{uuid.uuid4().hex}"
        _, created = wallet_credit(user=self.user, amount=amount, payment_id=payment_id)
        assert created
        self.expected["balance"] += amount
        return payment_id

    @rule(payment_id=payments, amount=hundredths(1, 5000))
    def credit_same_payment_again(self, payment_id, amount):
        _, created = wallet_credit(user=self.user, amount=amount, payment_id=payment_id)
        assert not created

    @rule(amount=hundredths(-3000, 3000), demo_minutes=hundredths(-500, 500))
    def adjust(self, amount, demo_minutes):
        assume(amount or demo_minutes)
        e = self.expected
        if e["balance"] - e["held"] + amount < 0 or e["demo"] - e["demo_held"] + demo_minutes < 0:
            with pytest.raises(InsufficientBalance):
                wallet_adjust(wallet_id=self.wallet_id, amount=amount, demo_minutes=demo_minutes, reason="machine")
            return
        wallet_adjust(wallet_id=self.wallet_id, amount=amount, demo_minutes=demo_minutes, reason="machine")
        e["balance"] += amount
        e["demo"] += demo_minutes

    # --- Paying for transcriptions ----------------------------------------------------------

    @rule(target=reserved, minutes=hundredths(1, 2000))
    def reserve(self, minutes):
        e = self.expected
        demo_used = min(minutes, e["demo"] - e["demo_held"])
        amount = ((minutes - demo_used) * RATE).quantize(CENT, rounding=ROUND_UP)
        transcription = make_transcription(self.user, minutes)
        if amount > e["balance"] - e["held"]:
            with pytest.raises(InsufficientBalance):
                wallet_reserve(user=self.user, subject=wallet_subject(transcription.pk), minutes=minutes)
            return multiple()
        hold = wallet_reserve(user=self.user, subject=wallet_subject(transcription.pk), minutes=minutes)
        assert (hold.amount, hold.demo_minutes) == (amount, demo_used)
        e["held"] += amount
        e["demo_held"] += demo_used
        self.holds[transcription.pk] = [amount, demo_used, Hold.Status.HELD]
        return transcription.pk

    @rule(transcription_id=reserved)
    def capture(self, transcription_id):
        amount, demo_used, status = self.holds[transcription_id]
        line = wallet_capture(subject=wallet_subject(transcription_id))
        if status == Hold.Status.RELEASED:
            assert line is None
            return
        assert (line.amount, line.demo_minutes) == (-amount, -demo_used)
        if status == Hold.Status.HELD:
            e = self.expected
            e["held"] -= amount
            e["demo_held"] -= demo_used
            e["balance"] -= amount
            e["demo"] -= demo_used
            self.holds[transcription_id][2] = Hold.Status.CAPTURED

    @rule(transcription_id=reserved)
    def release(self, transcription_id):
        amount, demo_used, status = self.holds[transcription_id]
        assert wallet_release(subject=wallet_subject(transcription_id)) is (status == Hold.Status.HELD)
        if status == Hold.Status.HELD:
            self.expected["held"] -= amount
            self.expected["demo_held"] -= demo_used
            self.holds[transcription_id][2] = Hold.Status.RELEASED

    @rule(transcription_id=reserved)
    def refund(self, transcription_id):
        amount, demo_used, status = self.holds[transcription_id]
        if status != Hold.Status.CAPTURED or transcription_id in self.refunded:
            with pytest.raises(NothingToRefund):
                wallet_refund(subject=wallet_subject(transcription_id), reason="machine")
            return
        line = wallet_refund(subject=wallet_subject(transcription_id), reason="machine")
        assert (line.amount, line.demo_minutes) == (amount, demo_used)
        self.expected["balance"] += amount
        self.expected["demo"] += demo_used
        self.refunded.add(transcription_id)

    # --- What must always hold --------------------------------------------------------------

    @invariant()
    def figures_are_never_negative_and_match_the_rules(self):
        wallet = Wallet.objects.get(pk=self.wallet_id)
        actual = {
            "balance": wallet.balance,
            "held": wallet.held,
            "demo": wallet.demo_minutes_remaining,
            "demo_held": wallet.demo_minutes_held,
        }
        assert actual == self.expected
        assert min(actual.values()) >= 0
        assert wallet.available >= 0 and wallet.demo_minutes_available >= 0

    @invariant()
    def audit_ledger_is_clean(self):
        call_command("audit_ledger", "--wallet", str(self.wallet_id), stdout=StringIO())  # raises on a mismatch


@pytest.mark.django_db
@override_settings(RATE_PER_MINUTE=RATE)
def test_any_sequence_of_wallet_operations_keeps_the_ledger_exact():
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=30,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
