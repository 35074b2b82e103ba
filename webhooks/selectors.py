from uuid import UUID

from django.db.models import QuerySet

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
