"""Wallet top-ups through Razorpay: orders, checkout verification, webhooks and reconciliation.

A payment id is credited at most once, through `wallet_credit`, whose ledger line is unique per
payment id: whichever of verify, a webhook or reconciliation reports a payment first credits it,
the others find it credited. The amount credited is always the stored order's.

Razorpay is never called inside a transaction. Locks, in one order: a credit takes the wallet row
lock (inside `wallet_credit`) first, then writes the payment row, then the order row, in the same
transaction. Every other write here touches payment and order rows in that same order, through
inserts under unique constraints and single conditional UPDATEs, and never waits for a wallet:
no two of these transactions can wait on each other in a cycle.
"""

import hashlib
import json
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from functools import partial
from typing import Any, cast

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet, Sum
from django.utils import timezone

from accounts.models import User
from config import metrics
from config.checks import check_run_failed, check_run_finish
from payments import razorpay_client
from payments.exceptions import (
    InvalidPaymentSignature,
    InvalidWebhookPayload,
    NothingToReview,
    PaymentProviderUnavailable,
    PaymentRejectedByProvider,
    PaymentsNotConfigured,
    PaymentUnderReview,
    RefundNotAllowed,
    UnknownOrder,
)
from payments.models import Order, Payment, ReconcileRun, Refund, WebhookEvent
from payments.razorpay_client import RazorpayPayment
from wallet.models import Subject, SubjectType
from wallet.selectors import WalletDetails, wallet_details
from wallet.services import wallet_capture, wallet_credit, wallet_hold_money, wallet_release

logger = logging.getLogger(__name__)

CENT = Decimal("0.01")
MIN_ORDER_AMOUNT = Decimal("1.00")
MAX_ORDER_AMOUNT = Decimal("100000.00")
CAPTURE_EVENTS = frozenset({"payment.captured", "order.paid"})
FAILURE_EVENTS = frozenset({"payment.failed"})


class CaptureOutcome(StrEnum):
    CREDITED = "credited"
    ALREADY_CREDITED = "already credited"
    FLAGGED = "flagged: amount differs from the order, not credited"
    UNKNOWN_ORDER = "unknown order, not credited"


def rupees_to_paise(amount: Decimal) -> int:
    """Exact: refuses an amount with a fraction of a paisa instead of rounding it."""
    paise = amount * 100
    if paise != paise.to_integral_value():
        raise ValueError(f"{amount} is not a whole number of paise")
    return int(paise)


# --- Orders ----------------------------------------------------------------------------------


def order_create(*, user: User, amount: Decimal) -> Order:
    """Create a Razorpay order for `amount` rupees (₹1.00 to ₹100000.00) and keep it as `created`.

    Calls Razorpay with no transaction open. Raises `PaymentsNotConfigured` without API keys,
    `PaymentProviderUnavailable` or `PaymentRejectedByProvider` when Razorpay fails or refuses.
    """
    if not MIN_ORDER_AMOUNT <= amount <= MAX_ORDER_AMOUNT:
        raise ValueError(f"{amount} is outside the order limits")
    if not razorpay_client.is_configured():
        raise PaymentsNotConfigured()
    amount_paise = rupees_to_paise(amount)
    order_pk = uuid.uuid4()
    receipt = f"rcpt_{order_pk.hex}"  # unique, 37 characters, and names our row
    remote = razorpay_client.create_order(
        amount_paise=amount_paise, currency=settings.CURRENCY, receipt=receipt, notes={"user_id": str(user.pk)}
    )
    return Order.objects.create(
        id=order_pk,
        user=user,
        razorpay_order_id=remote.id,
        receipt=receipt,
        amount=amount,
        amount_paise=amount_paise,
        currency=remote.currency,
    )


# --- Recording and crediting payments --------------------------------------------------------


def _payment_record(
    *, order: Order, payment_id: str, status: str, reported: RazorpayPayment | None = None, flagged: bool = False
) -> None:
    fields: dict[str, Any] = {"status": status}
    if reported is not None:
        fields |= {"amount_paise": reported.amount_paise, "method": reported.method, "error": reported.error}
    if flagged:
        fields["flagged"] = True  # never cleared here: only an admin decides about a flagged payment
    payment, created = Payment.objects.get_or_create(
        razorpay_payment_id=payment_id, defaults={"order": order, **fields}
    )
    if created:
        return
    rows = Payment.objects.filter(pk=payment.pk)
    if status != Payment.Status.CAPTURED:
        rows = rows.exclude(status=Payment.Status.CAPTURED)  # a capture is final; a late report does not undo it
    rows.update(**fields, updated_at=timezone.now())


def _payment_capture(*, order: Order, payment_id: str, reported: RazorpayPayment | None) -> CaptureOutcome:
    """Credit `order`'s amount for `payment_id`, once.

    `reported` is Razorpay's own record of the captured payment (webhook, reconciliation): when its
    amount or currency differs from the order's, nothing is credited and the payment is flagged.
    Without it (checkout's signature, which Razorpay only issues for this order), the order's
    amount stands. A flagged payment is never credited here, whoever reports it later.
    Takes the wallet lock, then writes the payment and the order.
    """
    if reported is not None and (reported.amount_paise, reported.currency) != (order.amount_paise, order.currency):
        logger.error(
            "Payment %s captured %s paise %s for order %s of %s paise %s: not credited, flagged for review",
            reported.id,
            reported.amount_paise,
            reported.currency,
            order.razorpay_order_id,
            order.amount_paise,
            order.currency,
        )
        with transaction.atomic():
            _payment_record(
                order=order, payment_id=payment_id, status=Payment.Status.CAPTURED, reported=reported, flagged=True
            )
        return CaptureOutcome.FLAGGED
    # Not under a lock: a flag committed just after this read is the same as the flag arriving
    # after the credit, which leaves the payment credited and flagged for an admin.
    if Payment.objects.filter(razorpay_payment_id=payment_id, flagged=True).exists():
        return CaptureOutcome.FLAGGED
    with transaction.atomic():
        _, created = wallet_credit(
            user=order.user,
            amount=order.amount,
            payment_id=payment_id,
            description=f"Razorpay payment {payment_id} for order {order.razorpay_order_id}",
        )
        status = Payment.Status.AUTHORIZED if reported is None else Payment.Status.CAPTURED
        _payment_record(order=order, payment_id=payment_id, status=status, reported=reported)
        Order.objects.filter(pk=order.pk).exclude(status=Order.Status.PAID).update(
            status=Order.Status.PAID, updated_at=timezone.now()
        )
        if created:
            transaction.on_commit(partial(metrics.credited_rupees_total.inc, float(order.amount)))
    return CaptureOutcome.CREDITED if created else CaptureOutcome.ALREADY_CREDITED


def _payment_fail(*, order: Order, reported: RazorpayPayment) -> None:
    """Record a failed attempt; the order stays open for another attempt, and a paid order stays paid."""
    with transaction.atomic():
        _payment_record(order=order, payment_id=reported.id, status=Payment.Status.FAILED, reported=reported)
        Order.objects.filter(pk=order.pk).exclude(status=Order.Status.PAID).update(
            status=Order.Status.FAILED, updated_at=timezone.now()
        )


def _order_for(reported: RazorpayPayment) -> Order | None:
    if reported.order_id is None:
        return None
    return Order.objects.select_related("user").filter(razorpay_order_id=reported.order_id).first()


# --- Checkout verification -------------------------------------------------------------------


def payment_verify(
    *, user: User, razorpay_order_id: str, razorpay_payment_id: str, razorpay_signature: str
) -> WalletDetails:
    """Credit a payment the SPA reports from checkout, once, and return the caller's wallet figures.

    The signature (HMAC-SHA256 of `order_id|payment_id` with the key secret) is checked in constant
    time; the order must be the caller's; the order's stored amount is credited. A repeat credits
    nothing and returns the wallet as it is. Takes the wallet lock, then the payment and order rows.
    Raises `PaymentsNotConfigured`, `InvalidPaymentSignature`, `UnknownOrder` (missing or another
    user's order) and `PaymentUnderReview` (flagged for an amount mismatch).
    """
    if not razorpay_client.is_configured():
        raise PaymentsNotConfigured()
    if not razorpay_client.payment_signature_is_valid(
        order_id=razorpay_order_id, payment_id=razorpay_payment_id, signature=razorpay_signature
    ):
        raise InvalidPaymentSignature()
    order = Order.objects.select_related("user").filter(user=user, razorpay_order_id=razorpay_order_id).first()
    if order is None:
        raise UnknownOrder()
    if _payment_capture(order=order, payment_id=razorpay_payment_id, reported=None) is CaptureOutcome.FLAGGED:
        raise PaymentUnderReview()
    return wallet_details(user=user)


# --- Webhooks --------------------------------------------------------------------------------


def webhook_receive(*, body: bytes, signature: str, event_id: str) -> bool:
    """Apply one Razorpay webhook delivery; returns False for a repeat of an event already applied.

    The signature is checked over the raw body as sent. The event is stored under its unique
    `X-Razorpay-Event-Id` (a hash of the body when absent) in the same transaction that applies it,
    so a concurrent repeat waits and is then ignored, and a failure leaves nothing for the retry to
    trip over. Captures credit once (see `_payment_capture`); failures are recorded. Signed events
    we cannot use are stored and acknowledged, so Razorpay does not retry them forever.
    Raises `PaymentsNotConfigured`, `InvalidPaymentSignature` and `InvalidWebhookPayload`.
    """
    if not razorpay_client.webhook_is_configured():
        raise PaymentsNotConfigured()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidWebhookPayload() from exc
    if not signature or not razorpay_client.webhook_signature_is_valid(body=text, signature=signature):
        raise InvalidPaymentSignature("The webhook signature is not valid.")
    try:
        payload = json.loads(text)
    except ValueError as exc:
        raise InvalidWebhookPayload() from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("event"), str):
        raise InvalidWebhookPayload()
    event_id = event_id or f"sha256:{hashlib.sha256(body).hexdigest()}"
    if len(event_id) > cast(int, WebhookEvent._meta.get_field("event_id").max_length):
        raise InvalidWebhookPayload("The event id is too long.")

    with transaction.atomic():
        try:
            with transaction.atomic():
                event = WebhookEvent.objects.create(event_id=event_id, event=payload["event"][:64], payload=payload)
        except IntegrityError:
            logger.info("Webhook event %s received again: ignored", event_id)
            return False
        _webhook_apply(event=payload["event"], payload=payload)
        event.processed_at = timezone.now()
        event.save(update_fields=["processed_at"])
    return True


def _webhook_apply(*, event: str, payload: dict[str, Any]) -> None:
    if event in REFUND_EVENTS:
        _refund_event(event=event, payload=payload)
        return
    if event not in CAPTURE_EVENTS | FAILURE_EVENTS:
        return
    try:
        reported = razorpay_client.payment_from_entity(payload["payload"]["payment"]["entity"])
    except (KeyError, TypeError, ValueError):
        logger.error("Webhook %s without a usable payment entity: stored, not applied", event)
        return
    order = _order_for(reported)
    if order is None:
        logger.warning("Webhook %s for payment %s of an order we did not create: ignored", event, reported.id)
        return
    if event in CAPTURE_EVENTS:
        _payment_capture(order=order, payment_id=reported.id, reported=reported)
    else:
        _payment_fail(order=order, reported=reported)


# --- Flags ----------------------------------------------------------------------------------


def flag_review(*, record: Payment | Refund, note: str) -> None:
    """Record that an admin has dealt with a flagged payment (an amount that differs from its
    order's) or refund (more than the wallet could cover): it leaves the dashboard's list. It stays
    flagged, so nothing credits or refunds it on its own afterwards. Raises `NothingToReview` when
    it is not flagged or was already reviewed (a conditional UPDATE: two admins record it once)."""
    same: QuerySet[Payment] | QuerySet[Refund] = (
        Payment.objects.filter(pk=record.pk) if isinstance(record, Payment) else Refund.objects.filter(pk=record.pk)
    )
    if not same.filter(flagged=True, reviewed_at__isnull=True).update(reviewed_at=timezone.now(), review_note=note):
        raise NothingToReview()


# --- Reconciliation --------------------------------------------------------------------------


def payments_configured() -> bool:
    """Whether there are Razorpay keys to take payments (and reconcile them) with."""
    return razorpay_client.is_configured()


@dataclass(frozen=True)
class ReconciledPayment:
    payment: RazorpayPayment
    outcome: CaptureOutcome

    @property
    def needs_attention(self) -> bool:
        return self.outcome in (CaptureOutcome.FLAGGED, CaptureOutcome.UNKNOWN_ORDER)

    def __str__(self) -> str:
        payment = self.payment
        return (
            f"{payment.id}  {payment.order_id or '-'}  "
            f"{payment.currency} {Decimal(payment.amount_paise) / 100:.2f}  {self.outcome}"
        )


def payment_reconcile(*, since: datetime, until: datetime | None = None) -> list[ReconciledPayment]:
    """Credit every payment Razorpay captured in the window that our ledger lacks; safe to repeat.

    Lists payments through Razorpay (no transaction open), then handles each captured one exactly
    as a capture webhook would. Raises `PaymentsNotConfigured` and `PaymentProviderUnavailable`.
    """
    if not razorpay_client.is_configured():
        raise PaymentsNotConfigured()
    found = razorpay_client.list_payments(since=since, until=until or timezone.now())
    results = []
    for reported in found:
        if reported.status != Payment.Status.CAPTURED:
            continue
        order = _order_for(reported)
        outcome = (
            CaptureOutcome.UNKNOWN_ORDER
            if order is None
            else _payment_capture(order=order, payment_id=reported.id, reported=reported)
        )
        results.append(ReconciledPayment(payment=reported, outcome=outcome))
    return results


# --- Refunds ---------------------------------------------------------------------------------

# The order refund states move in: a state is replaced only by one of a higher rank.
_REFUND_RANK: dict[str, int] = {
    Refund.Status.PENDING: 0,
    Refund.Status.CREATED: 1,
    Refund.Status.PROCESSED: 2,
    Refund.Status.FAILED: 2,
}
REFUND_EVENTS = {
    "refund.created": Refund.Status.CREATED,
    "refund.processed": Refund.Status.PROCESSED,
    "refund.failed": Refund.Status.FAILED,
}
# Names the refunds first seen in webhooks, so concurrent deliveries of one agree on its id.
_DASHBOARD_REFUNDS = uuid.UUID("6b1f0f7e-5a4f-4d6c-9a43-2f0d8d1c7a11")


def refund_subject(refund_id: uuid.UUID | str) -> Subject:
    """How the wallet names the money it holds for a refund."""
    return Subject(SubjectType.PAYMENT_REFUND, str(refund_id))


def payment_unrefunded(*, payment: Payment) -> Decimal:
    """What of a captured payment is not refunded yet (refunds that failed do not count)."""
    paise = payment.amount_paise if payment.amount_paise is not None else payment.order.amount_paise
    refunded = payment.refunds.exclude(status=Refund.Status.FAILED).aggregate(total=Sum("amount"))["total"] or 0
    return (Decimal(paise) / 100 - refunded).quantize(CENT)


def refund_start(*, payment: Payment, amount: Decimal, reason: str, created_by: User | None = None) -> Refund:
    """Pay `amount` of a captured payment back to its card, out of the user's wallet (an admin's action).

    One transaction holds the amount in the wallet (its row locked first, as for every money
    change), then locks the payment and checks the amount against what of it is not refunded yet.
    Razorpay is asked after commit, with our refund's id as receipt. Its answer, or its webhook,
    moves the refund on: processed takes the hold out as a `refund` ledger line, failed gives it
    back. Razorpay not answering leaves it pending, held, for the webhook or `reconcile_payments`.
    Raises `RefundNotAllowed` (not captured, flagged, over the unrefunded amount, not 2 decimals
    or not positive), `InsufficientBalance` (the user spent it), `PaymentsNotConfigured`, and
    `PaymentRejectedByProvider` (the refund is then failed and the hold released).
    """
    if not razorpay_client.is_configured():
        raise PaymentsNotConfigured()
    if amount <= 0 or amount != amount.quantize(CENT):
        raise RefundNotAllowed("A refund is a positive amount in rupees with at most 2 decimals.")
    if payment.status != Payment.Status.CAPTURED or payment.flagged:
        raise RefundNotAllowed("Only a captured payment that is not under review can be refunded.")
    refund = Refund(payment=payment, amount=amount, from_wallet=amount, source=Refund.Source.ADMIN, reason=reason)
    refund.created_by = created_by
    with transaction.atomic():
        wallet_hold_money(user=payment.order.user, subject=refund_subject(refund.pk), amount=amount)
        locked = Payment.objects.select_for_update().select_related("order").get(pk=payment.pk)
        unrefunded = payment_unrefunded(payment=locked)
        if amount > unrefunded:
            raise RefundNotAllowed(f"Only ₹{unrefunded} of this payment is not refunded yet.")
        refund.save(force_insert=True)
    try:
        reported = razorpay_client.create_refund(
            payment_id=payment.razorpay_payment_id, amount_paise=rupees_to_paise(amount), refund_id=str(refund.pk)
        )
    except PaymentRejectedByProvider as exc:
        _refund_advance(refund.pk, Refund.Status.FAILED, error=exc.detail)
        raise
    except PaymentProviderUnavailable:
        logger.warning(
            "Razorpay did not answer refund %s: left pending, its webhook or reconciliation settles it", refund.pk
        )
        return refund
    _refund_advance(refund.pk, _reported_status(reported), razorpay_refund_id=reported.id)
    refund.refresh_from_db()
    return refund


def _reported_status(reported: razorpay_client.RazorpayRefund) -> str:
    # Razorpay's refund statuses: pending (it is working on it), processed, failed.
    return {"processed": Refund.Status.PROCESSED, "failed": Refund.Status.FAILED}.get(
        reported.status, Refund.Status.CREATED
    )


def _refund_advance(
    refund_id: uuid.UUID, status: str, *, razorpay_refund_id: str | None = None, error: str = ""
) -> bool:
    """Move a refund forward to `status`, settling its hold with it: captured (a `refund` ledger
    line) when processed, released when failed. Nothing happens when it is there already or past
    it. The wallet (through its hold) is locked before the refund row, as everywhere."""
    if razorpay_refund_id:  # learnt whatever happens below
        Refund.objects.filter(pk=refund_id, razorpay_refund_id__isnull=True).update(
            razorpay_refund_id=razorpay_refund_id
        )
    with transaction.atomic():
        subject = refund_subject(refund_id)
        if status == Refund.Status.PROCESSED:
            wallet_capture(subject=subject, description="Refund to the card through Razorpay")
        elif status == Refund.Status.FAILED:
            wallet_release(subject=subject)
        lower = [state for state, rank in _REFUND_RANK.items() if rank < _REFUND_RANK[status]]
        fields: dict[str, Any] = {"status": status, "updated_at": timezone.now()}
        if error:
            fields["error"] = error[:500]
        moved = Refund.objects.filter(pk=refund_id, status__in=lower).update(**fields)
        if not moved:
            transaction.set_rollback(True)  # no settling without the move
    return bool(moved)


def _refund_seen(reported: razorpay_client.RazorpayRefund) -> Refund | None:
    """Our record of a refund Razorpay reports: by its id, by ours (receipt, notes), or made now
    for a refund started on Razorpay's dashboard (None for a payment that is not ours)."""
    refund = Refund.objects.filter(razorpay_refund_id=reported.id).first()
    if refund is None and reported.local_id:
        try:
            refund = Refund.objects.filter(pk=uuid.UUID(reported.local_id)).first()
        except ValueError:
            refund = None
    if refund is not None:
        return refund
    payment = Payment.objects.select_related("order__user").filter(razorpay_payment_id=reported.payment_id).first()
    if payment is None:
        logger.warning("Refund %s of payment %s we do not know: ignored", reported.id, reported.payment_id)
        return None
    return _dashboard_refund(payment, reported)


def _dashboard_refund(payment: Payment, reported: razorpay_client.RazorpayRefund) -> Refund:
    """Record a refund made on Razorpay's dashboard and hold what the wallet still has of it: money
    already spent cannot come back out, so the rest is flagged for an admin, and no balance goes
    below zero. Concurrent deliveries about it agree on its id and make one record and one hold."""
    refund_id = uuid.uuid5(_DASHBOARD_REFUNDS, reported.id)
    amount = (Decimal(reported.amount_paise) / 100).quantize(CENT)
    with transaction.atomic():
        hold = wallet_hold_money(user=payment.order.user, subject=refund_subject(refund_id), amount=amount, up_to=True)
        try:
            with transaction.atomic():
                refund = Refund.objects.create(
                    id=refund_id,
                    payment=payment,
                    razorpay_refund_id=reported.id,
                    amount=amount,
                    from_wallet=hold.amount,
                    flagged=hold.amount < amount,
                    source=Refund.Source.DASHBOARD,
                    reason="Made on Razorpay's dashboard",
                )
        except IntegrityError:
            return Refund.objects.get(pk=refund_id)
    if refund.flagged:
        logger.error(
            "Refund %s of ₹%s on payment %s: the wallet had only ₹%s left; ₹%s flagged for an admin",
            reported.id,
            amount,
            payment.razorpay_payment_id,
            hold.amount,
            refund.shortfall,
        )
    return refund


def _refund_event(*, event: str, payload: dict[str, Any]) -> None:
    try:
        reported = razorpay_client.refund_from_entity(payload["payload"]["refund"]["entity"])
    except (KeyError, TypeError, ValueError):
        logger.error("Webhook %s without a usable refund entity: stored, not applied", event)
        return
    refund = _refund_seen(reported)
    if refund is not None:
        _refund_advance(refund.pk, REFUND_EVENTS[event], razorpay_refund_id=reported.id)


@dataclass(frozen=True)
class ReconciledRefund:
    refund: razorpay_client.RazorpayRefund
    difference: str

    def __str__(self) -> str:
        refund = self.refund
        return (
            f"{refund.id}  {refund.payment_id}  INR {Decimal(refund.amount_paise) / 100:.2f}  "
            f"{refund.status} at Razorpay: {self.difference}"
        )


def refund_reconcile(*, since: datetime, until: datetime | None = None) -> list[ReconciledRefund]:
    """Compare Razorpay's refunds of the payments captured in the window with ours, and apply what
    we missed as its webhooks would have (a refund we never saw, a state we did not reach).
    Returns each difference found. Raises `PaymentsNotConfigured`, `PaymentProviderUnavailable`."""
    if not razorpay_client.is_configured():
        raise PaymentsNotConfigured()
    payments = Payment.objects.filter(
        status=Payment.Status.CAPTURED, created_at__gte=since, created_at__lt=until or timezone.now()
    )
    differences = []
    for payment_id in payments.values_list("razorpay_payment_id", flat=True):
        for reported in razorpay_client.list_refunds(payment_id=payment_id):
            known = Refund.objects.filter(razorpay_refund_id=reported.id).first()
            status = _reported_status(reported)
            if known is not None and known.status == status:
                continue
            difference = "not recorded here" if known is None else f"{known.status} here, {status} at Razorpay"
            refund = _refund_seen(reported)
            if refund is not None:
                _refund_advance(refund.pk, status, razorpay_refund_id=reported.id)
            differences.append(ReconciledRefund(refund=reported, difference=difference))
    return differences


@dataclass(frozen=True)
class Reconciliation:
    run: ReconcileRun
    payments: list[ReconciledPayment]
    refunds: list[ReconciledRefund]


def payments_reconcile_run(*, since: datetime, until: datetime) -> Reconciliation:
    """`payment_reconcile` then `refund_reconcile` over the window, kept as a `ReconcileRun` (also
    when Razorpay cannot be reached: the run says so, and the error is raised again). Raises
    `PaymentsNotConfigured` before recording anything when there is no Razorpay to ask."""
    if not razorpay_client.is_configured():
        raise PaymentsNotConfigured()
    run = ReconcileRun.objects.create(since=since, until=until)
    try:
        payments = payment_reconcile(since=since, until=until)
        refunds = refund_reconcile(since=since, until=until)
    except Exception as exc:  # the run says it stopped, whatever stopped it
        check_run_failed(run, exc)
        raise
    differing = [result for result in payments if result.outcome != CaptureOutcome.ALREADY_CREDITED]
    credited = sum(result.outcome == CaptureOutcome.CREDITED for result in payments)
    attention = sum(result.needs_attention for result in payments)
    check_run_finish(
        run,
        ok=not differing and not refunds,
        summary=(
            f"{len(payments)} captured payments: {credited} credited only now, {attention} need attention; "
            f"{len(refunds)} refunds differed"
        ),
        lines=[str(result) for result in differing] + [str(refund) for refund in refunds],
        payments_seen=len(payments),
        credited=credited,
        needs_attention=attention,
        refund_differences=len(refunds),
    )
    return Reconciliation(run=run, payments=payments, refunds=refunds)
