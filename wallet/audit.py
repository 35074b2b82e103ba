"""The ledger audit: every wallet's lines replayed in order and compared with the wallet, as
`manage.py audit_ledger` and the tests run it. Reads only, from one snapshot, locking nothing."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from operator import itemgetter
from typing import Any

from django.db import connection, transaction
from django.db.models import Sum

from config.checks import check_run_failed, check_run_finish
from wallet.models import ZERO, AuditRun, Hold, SubjectType, Transaction, Wallet


@dataclass(frozen=True)
class LedgerMismatch:
    wallet_id: int
    user_email: str
    figure: str
    recorded: Decimal
    replayed: Decimal

    def __str__(self) -> str:
        return (
            f"wallet {self.wallet_id} ({self.user_email}): {self.figure} is {self.recorded}, "
            f"its ledger says {self.replayed}"
        )


@dataclass
class LedgerAudit:
    wallets_checked: int = 0
    lines_replayed: int = 0
    mismatches: list[LedgerMismatch] = field(default_factory=list)

    @property
    def summary(self) -> str:
        checked = f"{self.wallets_checked} wallets, {self.lines_replayed} ledger lines checked"
        if not self.mismatches:
            return f"{checked}: no mismatch."
        wallets = len({mismatch.wallet_id for mismatch in self.mismatches})
        return f"{checked}: {len(self.mismatches)} mismatches in {wallets} wallets."


def wallet_audit_run() -> AuditRun:
    """Audit every wallet and keep what it found, for the operations dashboard and the admin."""
    run = AuditRun.objects.create()
    try:
        audit = wallet_audit()
    except Exception as exc:  # the run says it stopped, whatever stopped it
        check_run_failed(run, exc)
        raise
    check_run_finish(
        run,
        ok=not audit.mismatches,
        summary=audit.summary,
        lines=[str(mismatch) for mismatch in audit.mismatches],
        wallets_checked=audit.wallets_checked,
        lines_replayed=audit.lines_replayed,
        mismatches=len(audit.mismatches),
    )
    return run


@contextmanager
def _one_snapshot() -> Iterator[None]:
    """Read wallets, lines and holds as of one moment, without locking anything.

    The app runs MySQL at READ COMMITTED, where each query sees a newer state: a payment landing
    between reading a wallet and reading its lines would look like a mismatch. REPEATABLE READ
    for this one transaction gives every query the snapshot of the first. (SQLite's transactions
    are snapshots already.)
    """
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost and connection.vendor == "mysql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        yield


_LINE_FIELDS = (
    "wallet_id",
    "id",
    "type",
    "amount",
    "demo_minutes",
    "minutes",
    "balance_before",
    "demo_minutes_before",
    "subject_type",
)


def wallet_audit(*, wallet_ids: Sequence[int] | None = None) -> LedgerAudit:
    """Replay each wallet's ledger lines in order and compare the result with the wallet.

    Checks that each line starts where the previous one ended, that balance, demo minutes and the
    totals equal what the lines add up to, and that `held` equals the wallet's open holds.
    """
    wallets = Wallet.objects.select_related("user").order_by("pk")
    lines = Transaction.objects.order_by("wallet_id", "pk").values_list(*_LINE_FIELDS)
    holds = Hold.objects.filter(status=Hold.Status.HELD)
    if wallet_ids is not None:
        wallets = wallets.filter(pk__in=wallet_ids)
        lines = lines.filter(wallet_id__in=wallet_ids)
        holds = holds.filter(wallet_id__in=wallet_ids)

    audit = LedgerAudit()
    with _one_snapshot():
        open_holds = {
            row["wallet_id"]: (row["amount"], row["demo_minutes"])
            for row in holds.values("wallet_id").annotate(amount=Sum("amount"), demo_minutes=Sum("demo_minutes"))
        }
        # Both sequences are ordered by wallet: walk them side by side, one wallet's lines at a time.
        groups = itertools.groupby(lines.iterator(), key=itemgetter(0))
        group = next(groups, None)
        for wallet in wallets.iterator():
            own_lines: Iterator[tuple[Any, ...]] = iter(())
            if group is not None and group[0] == wallet.pk:
                own_lines, group = group[1], None
            replay = _Replay(wallet)
            for line in own_lines:
                replay.apply(*line[1:])
            if group is None:
                group = next(groups, None)
            audit.mismatches.extend(replay.compare(*open_holds.get(wallet.pk, (ZERO, ZERO))))
            audit.wallets_checked += 1
            audit.lines_replayed += replay.lines
    return audit


class _Replay:
    def __init__(self, wallet: Wallet) -> None:
        self.wallet = wallet
        self.lines = 0
        self.balance = self.demo_minutes = ZERO
        self.total_credited = self.total_spent = self.total_refunded = self.total_minutes_transcribed = ZERO
        self.mismatches: list[LedgerMismatch] = []

    def _mismatch(self, figure: str, recorded: Decimal, replayed: Decimal) -> None:
        if recorded != replayed:
            self.mismatches.append(LedgerMismatch(self.wallet.pk, self.wallet.user.email, figure, recorded, replayed))

    def apply(
        self,
        line_id: int,
        type: str,
        amount: Decimal,
        demo_minutes: Decimal,
        minutes: Decimal,
        balance_before: Decimal,
        demo_minutes_before: Decimal,
        subject_type: str,
    ) -> None:
        self.lines += 1
        self._mismatch(f"balance_before of line {line_id}", balance_before, self.balance)
        self._mismatch(f"demo_minutes_before of line {line_id}", demo_minutes_before, self.demo_minutes)
        self.balance += amount
        self.demo_minutes += demo_minutes
        if type == Transaction.Type.CREDIT:
            self.total_credited += amount
        elif type == Transaction.Type.DEBIT:
            self.total_spent -= amount
            self.total_minutes_transcribed += minutes
        elif type == Transaction.Type.REFUND and subject_type == SubjectType.PAYMENT_REFUND:
            self.total_refunded -= amount  # money out, back to the card
        elif type == Transaction.Type.REFUND:
            self.total_spent -= amount  # a transcription's cost, given back

    def compare(self, held: Decimal, demo_minutes_held: Decimal) -> list[LedgerMismatch]:
        wallet = self.wallet
        self._mismatch("balance", wallet.balance, self.balance)
        self._mismatch("demo_minutes_remaining", wallet.demo_minutes_remaining, self.demo_minutes)
        self._mismatch("total_credited", wallet.total_credited, self.total_credited)
        self._mismatch("total_spent", wallet.total_spent, self.total_spent)
        self._mismatch("total_refunded", wallet.total_refunded, self.total_refunded)
        self._mismatch("total_minutes_transcribed", wallet.total_minutes_transcribed, self.total_minutes_transcribed)
        self._mismatch("held", wallet.held, held)
        self._mismatch("demo_minutes_held", wallet.demo_minutes_held, demo_minutes_held)
        return self.mismatches
