"""Every change to a wallet. Money moves only here.

Each operation that changes a wallet opens its own short `atomic()` block, locks the wallet row
(`select_for_update`) before reading any figure it changes, and writes its ledger line in the same
block. Nothing slow (no provider call) ever runs inside these blocks.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from decimal import ROUND_UP, Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from wallet.cache import wallet_changed
from wallet.exceptions import InsufficientBalance, NothingToRefund
from wallet.models import ZERO, Hold, Subject, SubjectType, Transaction, Wallet

if TYPE_CHECKING:
    from accounts.models import User

CENT = Decimal("0.01")


def _require_cents(value: Decimal, *, name: str) -> None:
    # A figure with more than two places would be rounded by the database but not in the
    # running balance, and the ledger would stop adding up: refuse it instead.
    if not isinstance(value, Decimal) or not value.is_finite() or value != value.quantize(CENT):
        raise ValueError(f"{name} must be a Decimal with at most 2 places, not {value!r}.")


# --- Arithmetic ------------------------------------------------------------------------------


def billable_minutes(duration_seconds: Decimal | int | float | str) -> Decimal:
    """Whole seconds (rounded up) / 60, rounded up to 0.01 minute."""
    seconds = math.ceil(Decimal(str(duration_seconds)))
    if seconds < 0:
        raise ValueError("A duration cannot be negative.")
    return (Decimal(seconds) / 60).quantize(CENT, rounding=ROUND_UP)


@dataclass(frozen=True)
class Quote:
    billable_minutes: Decimal
    demo_minutes_used: Decimal
    charged_minutes: Decimal
    amount: Decimal


def quote(*, minutes: Decimal, demo_minutes_available: Decimal, rate: Decimal | None = None) -> Quote:
    """Demo minutes first; the rest at `rate` (default `RATE_PER_MINUTE`), rounded up to the paisa."""
    rate = settings.RATE_PER_MINUTE if rate is None else rate
    demo_used = min(minutes, max(demo_minutes_available, ZERO))
    charged = minutes - demo_used
    return Quote(
        billable_minutes=minutes,
        demo_minutes_used=demo_used,
        charged_minutes=charged,
        amount=(charged * rate).quantize(CENT, rounding=ROUND_UP),
    )


def wallet_quote(*, wallet: Wallet, minutes: Decimal) -> Quote:
    return quote(minutes=minutes, demo_minutes_available=wallet.demo_minutes_available)


# --- Ledger primitive ------------------------------------------------------------------------


def _lock_wallet(**lookup: Any) -> Wallet:
    # The row lock serialises every change to this wallet and its holds: whoever holds it sees
    # the latest committed figures (READ COMMITTED) and no one else can change them meanwhile.
    return Wallet.objects.select_for_update().get(**lookup)


# Callers adjust `held` and the totals on the locked wallet before posting; `_post` saves them all.
_MONEY_FIELDS = [
    "balance",
    "held",
    "demo_minutes_remaining",
    "demo_minutes_held",
    "total_credited",
    "total_spent",
    "total_refunded",
    "total_minutes_transcribed",
    "updated_at",
]


def _post(
    *,
    wallet: Wallet,
    type: str,
    reference: str,
    amount: Decimal = ZERO,
    demo_minutes: Decimal = ZERO,
    minutes: Decimal = ZERO,
    **links: Any,
) -> Transaction:
    """Write one ledger line and apply it, with the caller's other changes, to the locked `wallet`.

    A second line with the same `reference` raises `IntegrityError`: see `_post_once`.
    """
    line = Transaction.objects.create(
        wallet=wallet,
        type=type,
        reference=reference,
        amount=amount,
        demo_minutes=demo_minutes,
        minutes=minutes,
        balance_before=wallet.balance,
        balance_after=wallet.balance + amount,
        demo_minutes_before=wallet.demo_minutes_remaining,
        demo_minutes_after=wallet.demo_minutes_remaining + demo_minutes,
        **links,
    )
    wallet.balance += amount
    wallet.demo_minutes_remaining += demo_minutes
    wallet.save(update_fields=_MONEY_FIELDS)
    wallet_changed(user_id=wallet.user_id)
    return line


def _post_once(*, reference: str, **kwargs: Any) -> tuple[Transaction, bool]:
    """`_post`, or `(existing line, False)` when `reference` was already posted (then nothing changes).

    The unique constraint on `reference` decides, so this holds even between two wallets' locks.
    """
    try:
        with transaction.atomic():  # a savepoint, so a duplicate leaves the outer block usable
            return _post(reference=reference, **kwargs), True
    except IntegrityError:
        existing = Transaction.objects.filter(reference=reference).first()
        if existing is None:
            raise
        return existing, False


# --- Wallet lifecycle ------------------------------------------------------------------------


def wallet_create(*, user: User) -> Wallet:
    """The user's wallet, with `DEMO_MINUTES` demo minutes granted through the ledger."""
    with transaction.atomic():
        wallet = Wallet.objects.create(user=user)
        _post(
            wallet=wallet,
            type=Transaction.Type.CREDIT,
            reference=f"demo-grant:{wallet.pk}",
            demo_minutes=settings.DEMO_MINUTES,
            description="Demo minutes for a new account",
        )
    return wallet


# --- Holds: reserve, capture, release --------------------------------------------------------


def wallet_reserve(*, user: User, subject: Subject, minutes: Decimal) -> Hold:
    """Hold the whole cost of `subject` (demo minutes first, then money) in `user`'s wallet.

    Locks the wallet row. Raises `InsufficientBalance` when the available money or demo minutes
    cannot cover it. Idempotent per subject: a second call returns the first hold.
    Call it inside the caller's `atomic()` that creates the subject, so a refusal leaves
    nothing behind.
    """
    _require_cents(minutes, name="minutes")
    if minutes < 0:
        raise ValueError("Minutes cannot be negative.")
    with transaction.atomic():
        wallet = _lock_wallet(user=user)
        existing = Hold.objects.filter(subject_type=subject.type, subject_id=subject.id).first()
        if existing is not None:
            return existing
        cost = wallet_quote(wallet=wallet, minutes=minutes)
        if cost.amount > wallet.available:
            raise InsufficientBalance(
                f"This needs ₹{cost.amount} after {cost.demo_minutes_used} demo minutes; "
                f"₹{wallet.available} is available."
            )
        hold = Hold.objects.create(
            wallet=wallet,
            subject_type=subject.type,
            subject_id=subject.id,
            billable_minutes=minutes,
            demo_minutes=cost.demo_minutes_used,
            amount=cost.amount,
        )
        wallet.held += cost.amount
        wallet.demo_minutes_held += cost.demo_minutes_used
        wallet.save(update_fields=["held", "demo_minutes_held", "updated_at"])
        wallet_changed(user_id=wallet.user_id)
    return hold


def wallet_hold_extend(*, subject: Subject, minutes: Decimal) -> Hold:
    """Raise a held transcription's cover to `minutes` in all (a live session held a minute ahead),
    as if it had been reserved for that many at the start: demo minutes first, then money.

    Locks the hold and its wallet row. Raises `InsufficientBalance` when the available money or demo
    minutes cannot cover the difference (the hold stays as it was), and `ValueError` when the hold
    is gone or settled. Asking for no more than is held changes nothing.
    """
    _require_cents(minutes, name="minutes")
    with transaction.atomic():
        hold = _lock_hold(subject)
        if hold is None or hold.status != Hold.Status.HELD:
            raise ValueError(f"{subject} has no open hold to extend.")
        if minutes <= hold.billable_minutes:
            return hold
        wallet = hold.wallet
        # The demo minutes this hold has are its own: count them as available to it again.
        cost = quote(minutes=minutes, demo_minutes_available=wallet.demo_minutes_available + hold.demo_minutes)
        more_demo = cost.demo_minutes_used - hold.demo_minutes
        more_money = cost.amount - hold.amount
        if more_money > wallet.available or more_demo > wallet.demo_minutes_available:
            raise InsufficientBalance(
                f"Another minute needs ₹{more_money} after {more_demo} demo minutes; ₹{wallet.available} is available."
            )
        hold.billable_minutes = minutes
        hold.demo_minutes = cost.demo_minutes_used
        hold.amount = cost.amount
        hold.save(update_fields=["billable_minutes", "demo_minutes", "amount"])
        wallet.held += more_money
        wallet.demo_minutes_held += more_demo
        wallet.save(update_fields=["held", "demo_minutes_held", "updated_at"])
        wallet_changed(user_id=wallet.user_id)
    return hold


def wallet_hold_money(*, user: User, subject: Subject, amount: Decimal, up_to: bool = False) -> Hold:
    """Hold `amount` of `user`'s available money for `subject` (a payment refund); with `up_to`,
    as much of it as is available (maybe nothing). Locks the wallet row. Raises `InsufficientBalance`
    when, without `up_to`, it is not all available. Idempotent per subject."""
    _require_cents(amount, name="amount")
    if amount <= 0:
        raise ValueError("A hold must be positive.")
    with transaction.atomic():
        wallet = _lock_wallet(user=user)
        existing = Hold.objects.filter(subject_type=subject.type, subject_id=subject.id).first()
        if existing is not None:
            return existing
        if amount > wallet.available and not up_to:
            raise InsufficientBalance(f"₹{amount} is more than the ₹{wallet.available} available.")
        held = min(amount, wallet.available)
        hold = Hold.objects.create(wallet=wallet, subject_type=subject.type, subject_id=subject.id, amount=held)
        wallet.held += held
        wallet.save(update_fields=["held", "updated_at"])
        wallet_changed(user_id=wallet.user_id)
    return hold


def _lock_hold(subject: Subject) -> Hold | None:
    # One statement locks the hold and its wallet (`hold.wallet`): a concurrent capture or release
    # of it, like every other change to the wallet, waits here, and what is read is current.
    holds = Hold.objects.select_related("wallet").select_for_update()
    return holds.filter(subject_type=subject.type, subject_id=subject.id).first()


def _capture_reference(subject: Subject) -> str:
    return f"payment-refund:{subject.id}" if subject.type == SubjectType.PAYMENT_REFUND else f"debit:{subject.id}"


def wallet_capture(*, subject: Subject, description: str = "", minutes: Decimal | None = None) -> Transaction | None:
    """Take a held amount out of the wallet: for a transcription one debit line (money and demo
    minutes), for a payment refund one `refund` line (money paid back to the card); totals updated.

    `minutes` (a transcription held for more than it used, such as a live session held a minute
    ahead) captures the cost of that many minutes of the hold, demo minutes first, and gives the
    rest back; no more than the hold covers (`ValueError`).

    Locks the hold and its wallet row. Idempotent: capturing a hold that is no longer held changes
    nothing and returns its line if there is one. Returns None when there is no hold, or it held
    nothing (a refund the wallet could not cover at all).
    """
    with transaction.atomic():
        hold = _lock_hold(subject)
        if hold is None:
            return None
        wallet = hold.wallet
        reference = _capture_reference(subject)
        if hold.status != Hold.Status.HELD:
            return Transaction.objects.filter(reference=reference).first()
        wallet.held -= hold.amount
        wallet.demo_minutes_held -= hold.demo_minutes
        if minutes is not None and subject.type != SubjectType.PAYMENT_REFUND:
            _hold_shrink(hold, minutes=minutes)
        line = None
        if subject.type == SubjectType.PAYMENT_REFUND:
            wallet.total_refunded += hold.amount
            if hold.amount:  # a hold of nothing (the refund found no money left) leaves no line
                line = _post(
                    wallet=wallet,
                    type=Transaction.Type.REFUND,
                    reference=reference,
                    amount=-hold.amount,
                    subject_type=subject.type,
                    subject_id=subject.id,
                    description=description or "Refund to the card",
                )
        else:
            wallet.total_spent += hold.amount
            wallet.total_minutes_transcribed += hold.billable_minutes
            # The hold's status, read under the lock, already makes this the only debit; the unique
            # `reference` would roll the whole capture back if that ever failed.
            line = _post(
                wallet=wallet,
                type=Transaction.Type.DEBIT,
                reference=reference,
                amount=-hold.amount,
                demo_minutes=-hold.demo_minutes,
                minutes=hold.billable_minutes,
                subject_type=subject.type,
                subject_id=subject.id,
                description=description or f"Transcription of {hold.billable_minutes} minutes",
            )
        hold.status = Hold.Status.CAPTURED
        hold.settled_at = timezone.now()
        hold.save(update_fields=["status", "settled_at"])
    return line


def _hold_shrink(hold: Hold, *, minutes: Decimal) -> None:
    """The hold as if it had been for `minutes` (at most what it is for): its demo minutes first."""
    _require_cents(minutes, name="minutes")
    if not 0 <= minutes <= hold.billable_minutes:
        raise ValueError(f"Cannot capture {minutes} minutes of a hold for {hold.billable_minutes}.")
    used = quote(minutes=minutes, demo_minutes_available=hold.demo_minutes)
    hold.billable_minutes = minutes
    hold.demo_minutes = used.demo_minutes_used
    hold.amount = min(used.amount, hold.amount)
    hold.save(update_fields=["billable_minutes", "demo_minutes", "amount"])


def wallet_release(*, subject: Subject) -> bool:
    """Give a held cost back to `available`; no ledger line, since the balance never changed.

    Locks the hold and its wallet row. Idempotent: returns False when there was nothing held to release.
    """
    with transaction.atomic():
        hold = _lock_hold(subject)
        if hold is None:
            return False
        wallet = hold.wallet
        if hold.status != Hold.Status.HELD:
            return False
        wallet.held -= hold.amount
        wallet.demo_minutes_held -= hold.demo_minutes
        wallet.save(update_fields=["held", "demo_minutes_held", "updated_at"])
        wallet_changed(user_id=wallet.user_id)
        hold.status = Hold.Status.RELEASED
        hold.settled_at = timezone.now()
        hold.save(update_fields=["status", "settled_at"])
    return True


# --- Credits, refunds, adjustments -----------------------------------------------------------


def wallet_credit(*, user: User, amount: Decimal, payment_id: str, description: str = "") -> tuple[Transaction, bool]:
    """Credit a payment. Locks the wallet row. A payment id is credited at most once: a repeat
    returns `(first line, False)` and changes nothing."""
    _require_cents(amount, name="amount")
    if amount <= 0:
        raise ValueError("A credit must be positive.")
    with transaction.atomic():
        wallet = _lock_wallet(user=user)
        wallet.total_credited += amount
        return _post_once(
            wallet=wallet,
            type=Transaction.Type.CREDIT,
            reference=f"credit:{payment_id}",
            amount=amount,
            payment_id=payment_id,
            description=description or f"Payment {payment_id}",
        )


def wallet_refund(*, subject: Subject, reason: str, created_by: User | None = None) -> Transaction:
    """Give back what a captured subject (a completed transcription) cost, money and demo minutes, once.

    Locks the wallet row. Raises `NothingToRefund` when it was never charged or was refunded.
    `total_spent` goes down; `total_minutes_transcribed` stays, since the work was done.
    """
    with transaction.atomic():
        debit = Transaction.objects.filter(reference=f"debit:{subject.id}").first()
        if debit is None:
            raise NothingToRefund()
        wallet = _lock_wallet(pk=debit.wallet_id)
        wallet.total_spent += debit.amount  # debit amounts are negative
        line, created = _post_once(
            wallet=wallet,
            type=Transaction.Type.REFUND,
            reference=f"refund:{subject.id}",
            amount=-debit.amount,
            demo_minutes=-debit.demo_minutes,
            minutes=debit.minutes,
            subject_type=subject.type,
            subject_id=subject.id,
            description=reason,
            created_by=created_by,
        )
        if not created:
            raise NothingToRefund()
    return line


def wallet_adjust(
    *, wallet_id: int, amount: Decimal = ZERO, demo_minutes: Decimal = ZERO, reason: str, created_by: User | None = None
) -> Transaction:
    """An admin's correction of balance and/or demo minutes, with a reason. Locks the wallet row.
    Raises `InsufficientBalance` when it would take away money or minutes that are not available
    (a held cost stays covered)."""
    _require_cents(amount, name="amount")
    _require_cents(demo_minutes, name="demo_minutes")
    if not amount and not demo_minutes:
        raise ValueError("An adjustment must change the balance or the demo minutes.")
    if not reason.strip():
        raise ValueError("An adjustment needs a reason.")
    with transaction.atomic():
        wallet = _lock_wallet(pk=wallet_id)
        if wallet.available + amount < 0 or wallet.demo_minutes_available + demo_minutes < 0:
            raise InsufficientBalance("The adjustment would take away more than is available.")
        return _post(
            wallet=wallet,
            type=Transaction.Type.ADJUSTMENT,
            reference=f"adjustment:{uuid.uuid4()}",
            amount=amount,
            demo_minutes=demo_minutes,
            description=reason.strip(),
            created_by=created_by,
        )
