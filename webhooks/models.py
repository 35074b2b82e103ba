import base64
import secrets
import uuid

from django.conf import settings
from django.db import models

# The events an endpoint may subscribe to. `webhook.test` is sent only by the test action.
TRANSCRIPTION_COMPLETED = "transcription.completed"
TRANSCRIPTION_FAILED = "transcription.failed"
WEBHOOK_TEST = "webhook.test"
EVENTS = (TRANSCRIPTION_COMPLETED, TRANSCRIPTION_FAILED)


def new_secret() -> str:
    """A Standard Webhooks signing secret: `whsec_` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


DISABLED_REASON_LENGTH = 255


class Endpoint(models.Model):
    """A URL of a user's server that is told about the user's events, signed with its own secret."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField(max_length=2000)
    events = models.JSONField(help_text="The event types sent to it.")
    secret = models.CharField(max_length=64, default=new_secret, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    # Set when a delivery kept failing for WEBHOOK_RETRY_HOURS (or by an admin); nothing is sent
    # while set. A successful test delivery clears it.
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=DISABLED_REASON_LENGTH, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "-created_at"], name="webhook_endpoint_user_idx")]

    def __str__(self) -> str:
        return self.url


class SigningSecret(models.Model):
    """A user's default secret: it signs what is sent to the `webhook_url` of a single request."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="webhook_signing_secret"
    )
    secret = models.CharField(max_length=64, default=new_secret, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"default webhook secret of {self.user_id}"


class Delivery(models.Model):
    """One event for one URL: sent until it is answered with a 2xx, or for WEBHOOK_RETRY_HOURS."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhook_deliveries")
    # Null for a request's own `webhook_url`.
    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, null=True, blank=True, related_name="deliveries")
    url = models.URLField(max_length=2000)
    # The `webhook-id` header: the same for every attempt and every URL the event goes to, so a
    # receiver can drop what it has already seen.
    event_id = models.CharField(max_length=64)
    event_type = models.CharField(max_length=64)
    payload = models.JSONField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=255, blank=True)
    # When it is due next; while an attempt runs, the end of that attempt's lease.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "deliveries"
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due_idx"),
            models.Index(fields=["endpoint", "-created_at"], name="webhook_delivery_endpoint_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id} → {self.url} ({self.status})"
