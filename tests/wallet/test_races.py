"""Real races: threads, each on its own database connection, hitting one wallet at once.

On MariaDB/MySQL these prove the row locks. SQLite has no row locks (and concurrent writers get
"database is locked"), so there the same calls run one after the other: the outcome must be the
same, which checks the logic without the locking.
"""

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connection

from tests.wallet.conftest import fund, make_transcription
from transcriptions.models import wallet_subject
from wallet.audit import wallet_audit
from wallet.exceptions import InsufficientBalance
from wallet.models import Hold, Transaction, Wallet
from wallet.services import wallet_capture, wallet_credit, wallet_release, wallet_reserve

pytestmark = [pytest.mark.mysql, pytest.mark.django_db(transaction=True)]
D = Decimal


def _outcome(call: Callable[[], object]) -> object:
    try:
        return call()
    except Exception as exc:  # the test counts what each call ended with
        return exc


def run_together(calls: list[Callable[[], object]]) -> list[object]:
    """Each call's result or exception. All threads start at one barrier, so the calls overlap."""
    if connection.vendor == "sqlite":
        return [_outcome(call) for call in calls]
    start = threading.Barrier(len(calls))

    def in_own_thread(call: Callable[[], object]) -> object:
        try:
            start.wait()
            return _outcome(call)
        finally:
            connection.close()  # this thread's own connection

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(in_own_thread, calls))


def test_fifty_concurrent_reservations_on_a_wallet_that_affords_seventeen(user):
    fund(user, balance=D("7.00"))  # with the 10 demo minutes: exactly 17 one-minute transcriptions
    transcriptions = [make_transcription(user, D("1.00")) for _ in range(50)]

    outcomes = run_together(
        [lambda t=t: wallet_reserve(user=user, subject=wallet_subject(t.pk), minutes=D("1.00")) for t in transcriptions]
    )

    kinds = Counter(type(outcome).__name__ for outcome in outcomes)
    assert kinds == {"Hold": 17, "InsufficientBalance": 33}
    assert all(o.code == "insufficient_balance" for o in outcomes if isinstance(o, InsufficientBalance))
    wallet = Wallet.objects.get(user=user)
    assert (wallet.balance, wallet.held, wallet.available) == (D("7.00"), D("7.00"), D("0.00"))
    assert (wallet.demo_minutes_remaining, wallet.demo_minutes_held) == (D("10.00"), D("10.00"))
    assert Hold.objects.count() == 17

    reserved = [o.subject for o in outcomes if isinstance(o, Hold)]
    captured = run_together([lambda s=s: wallet_capture(subject=s) for s in reserved])

    assert all(isinstance(line, Transaction) for line in captured)
    wallet.refresh_from_db()
    assert (wallet.balance, wallet.held, wallet.demo_minutes_remaining, wallet.demo_minutes_held) == (
        D("0.00"),
        D("0.00"),
        D("0.00"),
        D("0.00"),
    )
    assert (wallet.total_spent, wallet.total_minutes_transcribed) == (D("7.00"), D("17.00"))
    assert wallet_audit().mismatches == []


def test_concurrent_reserves_of_one_transcription_hold_it_once(user, transcription):
    outcomes = run_together(
        [
            lambda: wallet_reserve(user=user, subject=wallet_subject(transcription.pk), minutes=D("1.00"))
            for _ in range(10)
        ]
    )

    assert {hold.pk for hold in outcomes} == {Hold.objects.get().pk}
    wallet = Wallet.objects.get(user=user)
    assert (wallet.held, wallet.demo_minutes_held) == (D("0.00"), D("1.00"))


def test_concurrent_capture_and_release_of_one_reservation_exactly_one_wins(user):
    fund(user, balance=D("50.00"), demo_minutes=D("0.00"))
    transcriptions = [make_transcription(user, D("2.50")) for _ in range(8)]
    for t in transcriptions:
        wallet_reserve(user=user, subject=wallet_subject(t.pk), minutes=D("2.50"))
    calls, labels = [], []
    for t in transcriptions:
        for _ in range(2):
            calls += [
                lambda t=t: wallet_capture(subject=wallet_subject(t.pk)),
                lambda t=t: wallet_release(subject=wallet_subject(t.pk)),
            ]
            labels += [("capture", t.pk), ("release", t.pk)]

    outcomes = run_together(calls)

    winners = {t.pk: set() for t in transcriptions}
    for (kind, transcription_id), outcome in zip(labels, outcomes, strict=True):
        assert not isinstance(outcome, Exception), outcome
        if (kind == "capture" and outcome is not None) or (kind == "release" and outcome is True):
            winners[transcription_id].add(kind)
    assert all(len(kinds) == 1 for kinds in winners.values()), winners
    assert sum(outcome is True for outcome in outcomes) == sum(kinds == {"release"} for kinds in winners.values())
    captures = sum(kinds == {"capture"} for kinds in winners.values())
    assert Transaction.objects.filter(type=Transaction.Type.DEBIT).count() == captures
    wallet = Wallet.objects.get(user=user)
    assert (wallet.balance, wallet.held) == (D("50.00") - captures * D("2.50"), D("0.00"))
    assert wallet_audit().mismatches == []


def test_concurrent_credits_of_one_payment_credit_it_once(user):
    outcomes = run_together(
        [lambda: wallet_credit(user=user, amount=D("500.00"), payment_id="pay_raced") for _ in range(20)]
    )

    assert [created for _, created in outcomes].count(True) == 1
    assert len({line.pk for line, _ in outcomes}) == 1
    wallet = Wallet.objects.get(user=user)
    assert (wallet.balance, wallet.total_credited) == (D("500.00"), D("500.00"))
    assert Transaction.objects.filter(payment_id="pay_raced").count() == 1
    assert wallet_audit().mismatches == []
