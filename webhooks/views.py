from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.authentication import signed_in_user
from config.schema import error
from config.throttling import ScopedThrottleMixin
from webhooks.models import Endpoint
from webhooks.selectors import webhook_delivery_list, webhook_endpoint_list
from webhooks.serializers import (
    DeliveryOutputSerializer,
    EndpointCreatedOutputSerializer,
    EndpointCreateInputSerializer,
    EndpointOutputSerializer,
    SigningSecretOutputSerializer,
)
from webhooks.services import (
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_test,
    webhook_signing_secret,
)

URL_NOT_ALLOWED = (
    "`webhook_url_not_allowed`: not http(s) (https in production), or its host resolves to a loopback, private, "
    "link-local or metadata address"
)


class WebhookEndpointViewSet(
    ScopedThrottleMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Endpoints of your servers that are told when your transcriptions complete or fail."""

    serializer_class = EndpointOutputSerializer
    throttle_scope = "webhook_test"
    throttled_actions = frozenset({"test"})  # each one is a request to the outside
    lookup_value_converter = "uuid"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Endpoint.objects.none()
        return webhook_endpoint_list(user=signed_in_user(self.request))

    @extend_schema(
        request=EndpointCreateInputSerializer,
        responses={
            201: EndpointCreatedOutputSerializer,
            400: error(f"`invalid`, {URL_NOT_ALLOWED}, `too_many_webhook_endpoints` (at most 5)"),
        },
    )
    def create(self, request: Request) -> Response:
        """Register an endpoint. The answer holds its signing secret, shown this once."""
        data = EndpointCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint = webhook_endpoint_create(user=signed_in_user(request), **data.validated_data)
        return Response(EndpointCreatedOutputSerializer(endpoint).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, pk=None) -> Response:
        """Stop sending to this endpoint; its deliveries are deleted with it."""
        webhook_endpoint_delete(endpoint=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={200: DeliveryOutputSerializer})
    @action(detail=True, methods=["post"])
    def test(self, request: Request, pk=None) -> Response:
        """Send a `webhook.test` event now, once, and see how it was answered. A 2xx answer enables a
        disabled endpoint again."""
        delivery = webhook_endpoint_test(endpoint=self.get_object())
        return Response(DeliveryOutputSerializer(delivery).data)

    @extend_schema(responses={200: DeliveryOutputSerializer(many=True)})
    @action(detail=True, methods=["get"])
    def deliveries(self, request: Request, pk=None) -> Response:
        """What was sent to this endpoint, newest first: status, attempts, the last answer."""
        page = self.paginate_queryset(webhook_delivery_list(endpoint=self.get_object()))
        return self.get_paginated_response(DeliveryOutputSerializer(page, many=True).data)

    @extend_schema(responses={200: SigningSecretOutputSerializer})
    @action(detail=False, methods=["get"])
    def signing_secret(self, request: Request) -> Response:
        """Your default secret: it signs what is sent to the `webhook_url` of a single transcription request."""
        secret = webhook_signing_secret(user_id=signed_in_user(request).pk)
        return Response(SigningSecretOutputSerializer({"secret": secret}).data)
