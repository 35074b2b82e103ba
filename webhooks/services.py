"""Webhooks: the endpoints users register, and events sent to them signed the Standard Webhooks
way (`webhook-id`, `webhook-timestamp`, `webhook-signature`) until a 2xx answers, for up to
WEBHOOK_RETRY_HOURS.

An event is recorded in the transaction that makes it true (an outbox): one `Delivery` a URL,
queued once that commits. If the queueing is lost, or a worker dies mid-attempt, beat's sweep
sends what is due. Each attempt first claims its delivery with a lease (a conditional update), so
two workers never send one at once. Delivery is at least once; the event id lets receivers dedupe.
"""

import json
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any
from uuid import UUID

import urllib3
from celery import current_app
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import Truncator
from standardwebhooks import Webhook

from accounts.models import User
from accounts.services import user_lock
from webhooks.addresses import Target, checked_target
from webhooks.exceptions import TooManyWebhookEndpoints, WebhookUrlNotAllowed
from webhooks.models import DISABLED_REASON_LENGTH, WEBHOOK_TEST, Delivery, Endpoint, SigningSecret

logger = logging.getLogger(__name__)

DELIVER_TASK = "webhooks.deliver"
MAX_ENDPOINTS_PER_USER = 5
TIMEOUT_SECONDS = 5
# An attempt owns its delivery this long; one that died is due again after it.
ATTEMPT_LEASE_SECONDS = 60
# The wait after each failed attempt (the last one repeats), until WEBHOOK_RETRY_HOURS have passed.
RETRY_DELAYS_SECONDS = (5, 60, 300, 1800, 7200, 18000, 36000)
DUE_BATCH_SIZE = 500
# What is read of an answer: only its status matters.
ANSWER_READ_BYTES = 1024


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str = ""

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def webhook_url_check(*, url: str) -> None:
    """`WebhookUrlNotAllowed` unless webhooks may be sent to `url` (see `webhooks.addresses`)."""
    checked_target(url)


def webhook_endpoint_create(*, user: User, url: str, events: list[str]) -> Endpoint:
    """Register an endpoint for `events`; its secret is in the returned object (show it once).
    Raises `WebhookUrlNotAllowed`, `TooManyWebhookEndpoints`."""
    webhook_url_check(url=url)
    with transaction.atomic():
        user_lock(user=user)  # one registration of a user at a time
        if Endpoint.objects.filter(user=user).count() >= MAX_ENDPOINTS_PER_USER:
            raise TooManyWebhookEndpoints(f"At most {MAX_ENDPOINTS_PER_USER} webhook endpoints; delete one first.")
        return Endpoint.objects.create(user=user, url=url, events=sorted(set(events)))


def webhook_endpoint_delete(*, endpoint: Endpoint) -> None:
    """Its deliveries, sent or not, go with it."""
    endpoint.delete()


def webhook_endpoint_disable(*, endpoint: Endpoint, reason: str) -> None:
    """Send nothing more to it (an admin's decision); its pending deliveries fail when next due. A
    reason longer than the field ends in "…" (the admin log keeps it whole)."""
    reason = Truncator(reason).chars(DISABLED_REASON_LENGTH)
    Endpoint.objects.filter(pk=endpoint.pk).update(disabled_at=timezone.now(), disabled_reason=reason)


def webhook_endpoint_enable(*, endpoint: Endpoint) -> None:
    """Send to it again, events from now on."""
    Endpoint.objects.filter(pk=endpoint.pk).update(disabled_at=None, disabled_reason="")


def webhook_signing_secret(*, user_id: UUID) -> str:
    """The user's default secret (made on first use): it signs deliveries to a request's `webhook_url`."""
    signing = SigningSecret.objects.filter(user_id=user_id).first()
    if signing is None:
        try:
            with transaction.atomic():
                signing = SigningSecret.objects.create(user_id=user_id)
        except IntegrityError:  # made meanwhile by a concurrent first use
            signing = SigningSecret.objects.get(user_id=user_id)
    return signing.secret


def webhook_event_record(*, user_id: UUID, event_type: str, data: dict[str, Any], url: str = "") -> None:
    """Record an event for every enabled endpoint of the user subscribed to it, and for `url` when
    given (a request's own `webhook_url`). Call it inside the transaction that makes the event true:
    the deliveries commit with it, or not at all, and are queued after commit."""
    now = timezone.now()
    event_id = f"msg_{uuid.uuid4().hex}"
    payload = {"type": event_type, "timestamp": now.isoformat(), "data": data}
    endpoints = Endpoint.objects.filter(user_id=user_id, disabled_at__isnull=True).only("pk", "url", "events")
    targets: list[tuple[Endpoint | None, str]] = [(e, e.url) for e in endpoints if event_type in e.events]
    if url:
        targets.append((None, url))
    deliveries = Delivery.objects.bulk_create(
        Delivery(
            user_id=user_id,
            endpoint=endpoint,
            url=target_url,
            event_id=event_id,
            event_type=event_type,
            payload=payload,
            next_attempt_at=now,
        )
        for endpoint, target_url in targets
    )
    if deliveries:
        transaction.on_commit(partial(_queue, [delivery.pk for delivery in deliveries]))


def _queue(delivery_ids: list[UUID]) -> None:
    for delivery_id in delivery_ids:
        try:
            current_app.tasks[DELIVER_TASK].apply_async(args=[str(delivery_id)])
        except Exception:  # the broker is away: beat's sweep sends it when it is due
            logger.warning("Could not queue webhook delivery %s; the sweep will send it", delivery_id)


def webhook_dispatch_due(*, now: datetime | None = None) -> int:
    """Queue every pending delivery that is due (beat runs this); returns how many. Deliveries
    finished more than WEBHOOK_DELIVERY_RETENTION_DAYS ago are forgotten on the way."""
    now = now or timezone.now()
    finished = Delivery.objects.exclude(status=Delivery.Status.PENDING)
    finished.filter(created_at__lt=now - timedelta(days=settings.WEBHOOK_DELIVERY_RETENTION_DAYS)).delete()
    due = list(
        Delivery.objects.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:DUE_BATCH_SIZE]
    )
    _queue(due)
    return len(due)


def webhook_attempt(*, delivery_id: UUID | str) -> Delivery | None:
    """One attempt at a pending delivery that is due; None when it is not (sent, or another attempt
    holds it). A non-2xx answer, a timeout or a refused address sets the next attempt; past
    WEBHOOK_RETRY_HOURS the delivery fails and its endpoint is disabled, with the reason."""
    now = timezone.now()
    claimed = Delivery.objects.filter(pk=delivery_id, status=Delivery.Status.PENDING, next_attempt_at__lte=now).update(
        attempts=F("attempts") + 1, next_attempt_at=now + timedelta(seconds=ATTEMPT_LEASE_SECONDS)
    )
    if not claimed:
        return None
    delivery = Delivery.objects.select_related("endpoint").get(pk=delivery_id)
    if delivery.endpoint is not None and delivery.endpoint.disabled_at is not None:
        outcome = Outcome(None, "Not sent: the endpoint is disabled.")
        _record(delivery, outcome, final=True)
        return delivery
    secret = delivery.endpoint.secret if delivery.endpoint else webhook_signing_secret(user_id=delivery.user_id)
    outcome = _send(delivery, secret=secret)
    _record(delivery, outcome, final=False)
    return delivery


def webhook_endpoint_test(*, endpoint: Endpoint) -> Delivery:
    """Send a `webhook.test` event now, once (no retries), and say how it went. A 2xx answer
    enables the endpoint again if it was disabled."""
    delivery = Delivery.objects.create(
        user_id=endpoint.user_id,
        endpoint=endpoint,
        url=endpoint.url,
        event_id=f"msg_{uuid.uuid4().hex}",
        event_type=WEBHOOK_TEST,
        payload={"type": WEBHOOK_TEST, "timestamp": timezone.now().isoformat(), "data": {"endpoint": str(endpoint.pk)}},
        attempts=1,
    )
    outcome = _send(delivery, secret=endpoint.secret)
    _record(delivery, outcome, final=True)
    if outcome.delivered and endpoint.disabled_at is not None:
        Endpoint.objects.filter(pk=endpoint.pk).update(disabled_at=None, disabled_reason="")
        endpoint.disabled_at, endpoint.disabled_reason = None, ""
    return delivery


def _record(delivery: Delivery, outcome: Outcome, *, final: bool) -> None:
    now = timezone.now()
    delivery.last_status_code = outcome.status_code
    delivery.last_error = outcome.error[:255]
    delivery.next_attempt_at = None
    if outcome.delivered:
        delivery.status, delivery.delivered_at = Delivery.Status.DELIVERED, now
    else:
        delay = RETRY_DELAYS_SECONDS[min(delivery.attempts, len(RETRY_DELAYS_SECONDS)) - 1]
        next_attempt_at = now + timedelta(seconds=delay)
        if final or next_attempt_at > delivery.created_at + timedelta(hours=settings.WEBHOOK_RETRY_HOURS):
            delivery.status = Delivery.Status.FAILED
            if not final and delivery.endpoint_id is not None:
                reason = f"Deliveries failed for {settings.WEBHOOK_RETRY_HOURS} hours; the last: {delivery.last_error}"
                Endpoint.objects.filter(pk=delivery.endpoint_id, disabled_at__isnull=True).update(
                    disabled_at=now, disabled_reason=reason[:255]
                )
        else:
            delivery.next_attempt_at = next_attempt_at
    Delivery.objects.filter(pk=delivery.pk).update(
        status=delivery.status,
        last_status_code=delivery.last_status_code,
        last_error=delivery.last_error,
        next_attempt_at=delivery.next_attempt_at,
        delivered_at=delivery.delivered_at,
    )


def _send(delivery: Delivery, *, secret: str) -> Outcome:
    """POST the event, signed; never follows a redirect, gives up after TIMEOUT_SECONDS."""
    try:
        target = checked_target(delivery.url)
    except WebhookUrlNotAllowed as exc:
        return Outcome(None, exc.detail)
    body = json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False)
    sent_at = timezone.now()
    headers = {
        "Host": _host_header(target),
        "Content-Type": "application/json",
        "User-Agent": "transcription-webhooks/1",
        "webhook-id": delivery.event_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id=delivery.event_id, timestamp=sent_at, data=body),
    }
    pool: urllib3.HTTPConnectionPool
    timeout = urllib3.Timeout(total=TIMEOUT_SECONDS)
    if target.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            target.address,
            target.port,
            timeout=timeout,
            retries=False,
            cert_reqs="CERT_REQUIRED",
            server_hostname=target.host,
            assert_hostname=target.host,
        )
    else:
        pool = urllib3.HTTPConnectionPool(target.address, target.port, timeout=timeout, retries=False)
    with pool:
        try:
            response = pool.urlopen(
                "POST", target.path, body=body.encode(), headers=headers, redirect=False, preload_content=False
            )
            response.read(ANSWER_READ_BYTES)
            response.release_conn()
        except urllib3.exceptions.HTTPError as exc:
            return Outcome(None, _describe(exc))
    if 300 <= response.status < 400:
        return Outcome(response.status, f"Answered {response.status}; redirects are not followed.")
    if not 200 <= response.status < 300:
        return Outcome(response.status, f"Answered {response.status}.")
    return Outcome(response.status)


def _host_header(target: Target) -> str:
    host = f"[{target.host}]" if ":" in target.host else target.host
    default_port = 443 if target.scheme == "https" else 80
    return host if target.port == default_port else f"{host}:{target.port}"


def _describe(exc: urllib3.exceptions.HTTPError) -> str:
    if isinstance(exc, urllib3.exceptions.NewConnectionError):  # before timeouts: it is one of them
        return "The connection was refused or could not be made."
    if isinstance(exc, urllib3.exceptions.TimeoutError):
        return f"No answer within {TIMEOUT_SECONDS} s."
    if isinstance(exc, urllib3.exceptions.SSLError):
        return "The TLS handshake failed (certificate not valid for the host?)."
    return f"The request failed: {type(exc).__name__}."
