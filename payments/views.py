from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import signed_in_user
from payments.serializers import (
    OrderCreateInputSerializer,
    OrderOutputSerializer,
    PaymentVerifyInputSerializer,
    WebhookAckOutputSerializer,
)
from payments.services import order_create, payment_verify, webhook_receive
from wallet.serializers import WalletDetailsOutputSerializer


class WalletPaymentViewSet(viewsets.GenericViewSet):
    """Top-ups: create a Razorpay order, then verify what checkout returns."""

    @extend_schema(
        request=OrderCreateInputSerializer, responses={201: OrderOutputSerializer}, operation_id="wallet_create_order"
    )
    @action(detail=False, methods=["post"], url_path="create_order")
    def create_order(self, request: Request) -> Response:
        """A Razorpay order for a top-up of ₹1.00 to ₹100000.00: open checkout with its `order_id` and `key_id`."""
        data = OrderCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order = order_create(user=signed_in_user(request), amount=data.validated_data["amount"])
        return Response(OrderOutputSerializer(order).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=PaymentVerifyInputSerializer,
        responses={200: WalletDetailsOutputSerializer},
        operation_id="wallet_verify_payment",
    )
    @action(detail=False, methods=["post"], url_path="verify_payment")
    def verify_payment(self, request: Request) -> Response:
        """Credit the order's amount for what checkout returned (once per payment); answers the new wallet figures."""
        data = PaymentVerifyInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        details = payment_verify(user=signed_in_user(request), **data.validated_data)
        return Response(WalletDetailsOutputSerializer(details).data)


class RazorpayWebhookView(APIView):
    """Razorpay's webhooks (`payment.captured`, `order.paid`, `payment.failed`), signed with the webhook
    secret instead of a JWT, never throttled. A repeated `X-Razorpay-Event-Id` is acknowledged and ignored."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []

    @extend_schema(
        request={"application/json": OpenApiTypes.OBJECT},
        responses={200: WebhookAckOutputSerializer},
        parameters=[
            OpenApiParameter("X-Razorpay-Signature", str, OpenApiParameter.HEADER, required=True),
            OpenApiParameter("X-Razorpay-Event-Id", str, OpenApiParameter.HEADER),
        ],
        operation_id="payments_webhook",
    )
    def post(self, request: Request) -> Response:
        new = webhook_receive(
            body=request.body,  # the raw bytes: the signature covers them exactly as sent
            signature=request.headers.get("X-Razorpay-Signature", ""),
            event_id=request.headers.get("X-Razorpay-Event-Id", ""),
        )
        return Response(WebhookAckOutputSerializer({"status": "processed" if new else "duplicate"}).data)
