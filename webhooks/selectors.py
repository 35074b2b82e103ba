from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from django.db.models import Count, Max, Min, Q, QuerySet

from accounts.models import User
from webhooks.exceptions import WebhookEndpointNotFound
from webhooks.models import Delivery, Endpoint


def webhook_endpoint_list(*, user: User) -> QuerySet[Endpoint]:
    return Endpoint.objects.filter(user=user)


def webhook_endpoint_get(*, user: User, endpoint_id: UUID | str) -> Endpoint:
    """The user's endpoint; anyone else's is `WebhookEndpointNotFound`, as if it did not exist."""
    endpoint = Endpoint.objects.filter(user=user, pk=endpoint_id).first()
    if endpoint is None:
        raise WebhookEndpointNotFound()
    return endpoint


def webhook_delivery_list(*, endpoint: Endpoint) -> QuerySet[Delivery]:
    return Delivery.objects.filter(endpoint=endpoint).defer("payload")


# --- Operations ------------------------------------------------------------------------------


@dataclass(frozen=True)
class FailingUrl:
    """Deliveries to one URL that are being retried now, or that failed for good since a moment."""

    url: str
    user_email: str
    retrying: int
    failed: int
    next_attempt_at: datetime | None
    an_error: str  # one of the errors seen, as the delivery recorded it


def webhook_failing_urls(*, since: datetime, limit: int) -> list[FailingUrl]:
    """The URLs whose deliveries are failing: retrying now, or failed since `since`, most failures
    first. Deliveries are kept `WEBHOOK_DELIVERY_RETENTION_DAYS`, so this reads a bounded table."""
    failing = Q(status=Delivery.Status.PENDING, attempts__gt=0) | Q(
        status=Delivery.Status.FAILED, created_at__gte=since
    )
    rows = (
        Delivery.objects.filter(failing)
        .values("url", "user__email")
        .annotate(
            retrying=Count("pk", filter=Q(status=Delivery.Status.PENDING)),
            failed=Count("pk", filter=Q(status=Delivery.Status.FAILED)),
            next_attempt_at=Min("next_attempt_at", filter=Q(status=Delivery.Status.PENDING)),
            an_error=Max("last_error"),
        )
        .order_by("-failed", "-retrying", "url")[:limit]
    )
    return [
        FailingUrl(
            url=row["url"],
            user_email=row["user__email"],
            retrying=row["retrying"],
            failed=row["failed"],
            next_attempt_at=row["next_attempt_at"],
            an_error=row["an_error"],
        )
        for row in rows
    ]


def webhook_endpoints_disabled() -> QuerySet[Endpoint]:
    """Endpoints switched off (by repeated failure or by an admin), most recently first."""
    return Endpoint.objects.filter(disabled_at__isnull=False).select_related("user").order_by("-disabled_at")
