from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncDate

from wallet.cache import details_get, details_set, ledger_days_get, ledger_days_set
from wallet.models import ZERO, AuditRun, SubjectType, Transaction, Wallet

if TYPE_CHECKING:
    from accounts.models import User


def wallet_get(*, user: User) -> Wallet:
    return Wallet.objects.get(user=user)


@dataclass(frozen=True)
class WalletDetails:
    balance: Decimal
    held: Decimal
    available: Decimal
    currency: str
    demo_minutes_remaining: Decimal
    demo_minutes_held: Decimal
    demo_minutes_available: Decimal
    rate_per_minute: Decimal
    total_credited: Decimal
    total_spent: Decimal
    total_refunded: Decimal
    total_minutes_transcribed: Decimal


def wallet_details(*, user: User) -> WalletDetails:
    """What the user's wallet holds and has done, with the price of a minute. Served from the
    cache while no change to the wallet has been made since it was read (`wallet.cache`)."""
    version, cached = details_get(user_id=user.pk)
    if isinstance(cached, WalletDetails):
        return cached
    details = _details_of(wallet_get(user=user))
    details_set(user_id=user.pk, version=version, details=details)
    return details


def _details_of(wallet: Wallet) -> WalletDetails:
    return WalletDetails(
        balance=wallet.balance,
        held=wallet.held,
        available=wallet.available,
        currency=settings.CURRENCY,
        demo_minutes_remaining=wallet.demo_minutes_remaining,
        demo_minutes_held=wallet.demo_minutes_held,
        demo_minutes_available=wallet.demo_minutes_available,
        rate_per_minute=settings.RATE_PER_MINUTE,
        total_credited=wallet.total_credited,
        total_spent=wallet.total_spent,
        total_refunded=wallet.total_refunded,
        total_minutes_transcribed=wallet.total_minutes_transcribed,
    )


def transaction_list(*, user: User) -> QuerySet[Transaction]:
    """The user's own ledger, newest first."""
    return Transaction.objects.filter(wallet__user=user).order_by("-created_at", "-id")


# --- Operations ------------------------------------------------------------------------------


@dataclass
class LedgerDay:
    """What the ledger recorded in one day (UTC), across every wallet. Money in rupees, money out
    as positive figures. Cached per settled day: bump `wallet.cache.LEDGER_DAY_FORMAT` when its
    fields change."""

    day: date
    top_ups: Decimal = ZERO  # paid in through Razorpay
    top_up_count: int = 0
    card_refunds: Decimal = ZERO  # paid back to cards through Razorpay refunds
    charged: Decimal = ZERO  # captured for transcriptions
    charges_refunded: Decimal = ZERO  # transcriptions' costs given back to wallets
    adjustments: Decimal = ZERO  # admins' corrections, net
    paid_minutes: Decimal = ZERO
    demo_minutes: Decimal = ZERO

    @property
    def revenue(self) -> Decimal:
        """Captured transcription revenue net of what was given back."""
        return self.charged - self.charges_refunded

    def __add__(self, other: LedgerDay) -> LedgerDay:
        added = {
            field.name: getattr(self, field.name) + getattr(other, field.name)
            for field in fields(self)
            if field.name != "day"
        }
        return LedgerDay(day=min(self.day, other.day), **added)


# A day's totals are kept once it has been over this long: longer than any transaction that
# dated a line just before midnight takes to commit.
SETTLED_AFTER = timedelta(minutes=10)


def ledger_days(*, first: date, last: date, now: datetime) -> list[LedgerDay]:
    """Every day from `first` to `last` (UTC), oldest first, each with its totals (zero on a quiet
    day). Days over by `SETTLED_AFTER` at `now` come from the cache (`wallet.cache`); the rest from
    one aggregate query over the (created_at, type, ...) index."""
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    settled_before = now - SETTLED_AFTER
    settled = [day for day in days if _start(day) + timedelta(days=1) <= settled_before]
    totals: dict[date, LedgerDay] = ledger_days_get(days=settled)
    missing = [day for day in days if day not in totals]
    if missing:
        counted = _ledger_totals(first=missing[0], last=missing[-1])
        totals.update((day, counted[day]) for day in missing)
        ledger_days_set(totals={day: counted[day] for day in missing if day in settled})
    return [totals[day] for day in days]


def _start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _ledger_totals(*, first: date, last: date) -> dict[date, LedgerDay]:
    days = {first + timedelta(days=n): LedgerDay(day=first + timedelta(days=n)) for n in range((last - first).days + 1)}
    rows = (
        Transaction.objects.filter(created_at__gte=_start(first), created_at__lt=_start(last) + timedelta(days=1))
        .annotate(day=TruncDate("created_at", tzinfo=UTC))
        .values("day", "type", "subject_type")
        .annotate(
            money=Sum("amount"),
            billed=Sum("minutes"),
            demo=Sum("demo_minutes"),
            paid_in=Count("id", filter=Q(amount__gt=0)),
        )
        .order_by()
    )
    for row in rows:
        totals = days[row["day"]]
        kind, amount = row["type"], row["money"]
        if kind == Transaction.Type.CREDIT:
            totals.top_ups += amount
            totals.top_up_count += row["paid_in"]
        elif kind == Transaction.Type.DEBIT:
            totals.charged -= amount
            totals.paid_minutes += row["billed"] + row["demo"]  # a debit's demo minutes are negative
            totals.demo_minutes -= row["demo"]
        elif kind == Transaction.Type.REFUND and row["subject_type"] == SubjectType.PAYMENT_REFUND:
            totals.card_refunds -= amount
        elif kind == Transaction.Type.REFUND:
            totals.charges_refunded += amount
        else:
            totals.adjustments += amount
    return days


def audit_last() -> AuditRun | None:
    return AuditRun.objects.first()
