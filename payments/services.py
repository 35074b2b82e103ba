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
from django.utils import timezone

from accounts.models import User
from config import metrics
from payments import razorpay_client
from payments.exceptions import (
    InvalidPaymentSignature,
    InvalidWebhookPayload,
    PaymentsNotConfigured,
    PaymentUnderReview,
    UnknownOrder,
)
from payments.models import Order, Payment, WebhookEvent
from payments.razorpay_client import RazorpayPayment
from wallet.selectors import WalletDetails, wallet_details
from wallet.services import wallet_credit

logger = logging.getLogger(__name__)

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


# --- Reconciliation --------------------------------------------------------------------------


@dataclass(frozen=True)
class ReconciledPayment:
    payment: RazorpayPayment
    outcome: CaptureOutcome


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
