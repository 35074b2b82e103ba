from rest_framework import status

from config.exceptions import DomainError


class WebhookUrlNotAllowed(DomainError):
    code = "webhook_url_not_allowed"
    default_detail = "This URL cannot receive webhooks."


class TooManyWebhookEndpoints(DomainError):
    code = "too_many_webhook_endpoints"
    default_detail = "You have as many webhook endpoints as allowed; delete one first."


class WebhookEndpointNotFound(DomainError):
    status_code = status.HTTP_404_NOT_FOUND
    code = "not_found"
    default_detail = "Webhook endpoint not found."
