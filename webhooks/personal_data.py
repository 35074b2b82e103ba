"""The webhooks app's part of a user's data (`accounts.signals`): endpoints exported without their
secrets; endpoints, deliveries and the default secret erased with the account."""

from typing import Any

from accounts.models import User
from webhooks.models import Delivery, Endpoint, SigningSecret
from webhooks.selectors import webhook_endpoint_list


def export(sender: type[User], *, user: User, **kwargs: Any) -> tuple[str, object]:
    return "webhooks", [
        {
            "id": str(endpoint.pk),
            "url": endpoint.url,
            "events": endpoint.events,
            "created_at": endpoint.created_at.isoformat(),
            "disabled_at": endpoint.disabled_at.isoformat() if endpoint.disabled_at else None,
        }
        for endpoint in webhook_endpoint_list(user=user)
    ]


def erase(sender: type[User], *, user: User, **kwargs: Any) -> None:
    Delivery.objects.filter(user=user).delete()
    Endpoint.objects.filter(user=user).delete()
    SigningSecret.objects.filter(user=user).delete()
