"""The one place that talks to Razorpay, through its official SDK. Only `payments.services` imports it.

Every HTTP call carries an explicit timeout (the SDK has none) and every way the SDK can fail
becomes a domain error: `PaymentProviderUnavailable` (503) when Razorpay is down, slow, answers
something that is not JSON, or refuses our credentials; `PaymentRejectedByProvider` (400) when it
refuses the request itself. Callers get plain typed values, never the SDK's dicts.
"""

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

import razorpay
import requests
from django.conf import settings
from razorpay.errors import BadRequestError, GatewayError, ServerError, SignatureVerificationError

from payments.exceptions import PaymentProviderUnavailable, PaymentRejectedByProvider

logger = logging.getLogger(__name__)

LIST_PAGE_SIZE = 100  # the largest `count` Razorpay's list endpoints accept


@dataclass(frozen=True)
class RazorpayOrder:
    id: str
    amount_paise: int
    currency: str
    receipt: str


@dataclass(frozen=True)
class RazorpayPayment:
    id: str
    order_id: str | None
    amount_paise: int
    currency: str
    status: str
    method: str
    error: str


@dataclass(frozen=True)
class RazorpayRefund:
    id: str
    payment_id: str
    amount_paise: int
    status: str
    receipt: str
    local_id: str  # our refund's id, from `notes.refund_id` (or the receipt), when we started it


def is_configured() -> bool:
    return bool(settings.RAZORPAY_KEY_ID and settings.RAZORPAY_KEY_SECRET)


def webhook_is_configured() -> bool:
    return bool(settings.RAZORPAY_WEBHOOK_SECRET)


def _client() -> razorpay.Client:
    # A client (and its requests session) per use: nothing shared between threads.
    return razorpay.Client(
        auth=(settings.RAZORPAY_KEY_ID, settings.RAZORPAY_KEY_SECRET), base_url=settings.RAZORPAY_BASE_URL
    )


def _call(what: str, method: Callable[..., Any], data: dict) -> dict:
    statuses: list[int] = []

    def record_status(response: requests.Response, *args, **kwargs) -> None:
        statuses.append(response.status_code)

    try:
        result = method(data, timeout=settings.RAZORPAY_TIMEOUT_SECONDS, hooks={"response": record_status})
    except BadRequestError as exc:
        # The SDK reports a refused key as a bad request; for our user that is an outage, not their mistake.
        if statuses and statuses[-1] in (401, 403):
            logger.error("Razorpay refused our API keys during %s: %s", what, exc)
            raise PaymentProviderUnavailable() from exc
        logger.warning("Razorpay rejected %s: %s", what, exc)
        raise PaymentRejectedByProvider(f"Razorpay refused this request: {exc}") from exc
    except (GatewayError, ServerError, requests.RequestException, ValueError, TypeError, KeyError) as exc:
        # RequestException covers connection errors, timeouts and non-JSON bodies; the SDK's own
        # parsing of an odd error body can raise TypeError or KeyError.
        logger.warning("Razorpay unavailable during %s: %r", what, exc)
        raise PaymentProviderUnavailable() from exc
    if not isinstance(result, dict):
        logger.warning("Razorpay answered %s with %r", what, result)
        raise PaymentProviderUnavailable()
    return result


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"expected a non-empty string, got {value!r}")
    return value


def _paise(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"expected a whole number of paise, got {value!r}")
    return value


def payment_from_entity(entity: Mapping[str, Any]) -> RazorpayPayment:
    """A payment entity as Razorpay sends it (API list or webhook payload). Raises ValueError when malformed."""
    try:
        order_id = entity.get("order_id")
        return RazorpayPayment(
            id=_text(entity["id"]),
            order_id=None if order_id is None else _text(order_id),
            amount_paise=_paise(entity["amount"]),
            currency=_text(entity["currency"]),
            status=_text(entity["status"]),
            method=str(entity.get("method") or "")[:32],
            error=str(entity.get("error_description") or "")[:500],
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"not a payment entity: {exc}") from exc


def create_order(*, amount_paise: int, currency: str, receipt: str, notes: dict[str, str]) -> RazorpayOrder:
    """Create an order that Razorpay captures automatically once paid."""
    data = _call(
        "order creation",
        _client().order.create,
        {"amount": amount_paise, "currency": currency, "receipt": receipt, "notes": notes, "payment_capture": 1},
    )
    try:
        order = RazorpayOrder(
            id=_text(data.get("id")),
            amount_paise=_paise(data.get("amount")),
            currency=_text(data.get("currency")),
            receipt=str(data.get("receipt") or ""),
        )
    except ValueError as exc:
        logger.warning("Razorpay answered order creation with %r", data)
        raise PaymentProviderUnavailable() from exc
    if (order.amount_paise, order.currency) != (amount_paise, currency):
        logger.error("Razorpay created order %s as %r, not for %s %s", order.id, data, amount_paise, currency)
        raise PaymentProviderUnavailable()
    return order


def list_payments(*, since: datetime, until: datetime) -> list[RazorpayPayment]:
    """Every payment Razorpay created between `since` and `until`, page by page."""
    client = _client()
    payments: list[RazorpayPayment] = []
    while True:
        page = _call(
            "payment listing",
            client.payment.all,
            {
                "from": int(since.timestamp()),
                "to": int(until.timestamp()),
                "count": LIST_PAGE_SIZE,
                "skip": len(payments),
            },
        )
        items = page.get("items")
        try:
            if not isinstance(items, list):
                raise ValueError(f"no items in {page!r}")
            payments.extend(payment_from_entity(item) for item in items)
        except ValueError as exc:
            logger.warning("Razorpay answered payment listing with %r", page)
            raise PaymentProviderUnavailable() from exc
        if len(items) < LIST_PAGE_SIZE:
            return payments


def refund_from_entity(entity: Mapping[str, Any]) -> RazorpayRefund:
    """A refund entity as Razorpay sends it (API or webhook payload). Raises ValueError when malformed."""
    try:
        notes = entity.get("notes") or {}
        receipt = str(entity.get("receipt") or "")
        return RazorpayRefund(
            id=_text(entity["id"]),
            payment_id=_text(entity["payment_id"]),
            amount_paise=_paise(entity["amount"]),
            status=_text(entity["status"]),
            receipt=receipt,
            local_id=str((notes.get("refund_id") if isinstance(notes, dict) else None) or receipt),
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"not a refund entity: {exc}") from exc


def create_refund(*, payment_id: str, amount_paise: int, refund_id: str) -> RazorpayRefund:
    """Ask Razorpay to pay `amount_paise` of a captured payment back to its card. Our refund's id
    goes as its receipt and in its notes, so its webhooks name it even before this call returns."""
    data = _call(
        "refund creation",
        partial(_client().payment.refund, payment_id),
        {"amount": amount_paise, "speed": "normal", "receipt": refund_id, "notes": {"refund_id": refund_id}},
    )
    try:
        return refund_from_entity(data)
    except ValueError as exc:
        logger.warning("Razorpay answered refund creation with %r", data)
        raise PaymentProviderUnavailable() from exc


def list_refunds(*, payment_id: str) -> list[RazorpayRefund]:
    """Every refund Razorpay has of a payment."""
    page = _call(
        "refund listing", partial(_client().payment.fetch_multiple_refund, payment_id), {"count": LIST_PAGE_SIZE}
    )
    try:
        items = page["items"]
        if not isinstance(items, list):
            raise ValueError(f"no items in {page!r}")
        return [refund_from_entity(item) for item in items]
    except (KeyError, ValueError) as exc:
        logger.warning("Razorpay answered refund listing with %r", page)
        raise PaymentProviderUnavailable() from exc


def payment_signature_is_valid(*, order_id: str, payment_id: str, signature: str) -> bool:
    """Checkout's signature: HMAC-SHA256 of `order_id|payment_id` with the key secret, compared in constant time."""
    params = {"razorpay_order_id": order_id, "razorpay_payment_id": payment_id, "razorpay_signature": signature}
    try:
        return _client().utility.verify_payment_signature(params)
    except (SignatureVerificationError, TypeError):  # TypeError: compare_digest refuses non-ASCII text
        return False


def webhook_signature_is_valid(*, body: str, signature: str) -> bool:
    """A webhook's `X-Razorpay-Signature`: HMAC-SHA256 of the raw body with the webhook secret."""
    try:
        return _client().utility.verify_webhook_signature(body, signature, settings.RAZORPAY_WEBHOOK_SECRET)
    except (SignatureVerificationError, TypeError):
        return False
