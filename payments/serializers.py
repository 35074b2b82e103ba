import re
from decimal import Decimal, InvalidOperation

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from payments.services import MAX_ORDER_AMOUNT, MIN_ORDER_AMOUNT

_PLAIN_DECIMAL = re.compile(r"[0-9]+(?:\.[0-9]+)?")


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "pattern": r"^[0-9]+(\.[0-9]{1,2})?$"},
            {"type": "number", "minimum": float(MIN_ORDER_AMOUNT), "maximum": float(MAX_ORDER_AMOUNT)},
        ],
        "description": f"Rupees, ₹{MIN_ORDER_AMOUNT} to ₹{MAX_ORDER_AMOUNT}, at most 2 decimal places.",
        "example": "100.00",
    }
)
class RupeeAmountField(serializers.Field):
    """Rupees as a string ("100.50") or a JSON number, read exactly: never through a float.

    Strings are plain ASCII decimals (no sign, exponent, spaces or underscores); numbers arrive as
    `int` or `Decimal` (see `DecimalJSONParser`). At most 2 decimal places, within the order limits.
    """

    default_error_messages = {
        "invalid": 'Enter the amount in rupees as a string or a number, e.g. "100.00".',
        "max_decimal_places": "Use at most 2 decimal places.",
        "min_value": f"The smallest top-up is ₹{MIN_ORDER_AMOUNT}.",
        "max_value": f"The largest top-up is ₹{MAX_ORDER_AMOUNT}.",
    }

    def to_internal_value(self, data) -> Decimal:
        if isinstance(data, str) and _PLAIN_DECIMAL.fullmatch(data):
            amount = Decimal(data)
        elif isinstance(data, int | Decimal) and not isinstance(data, bool):
            try:
                amount = Decimal(data)
            except InvalidOperation:
                self.fail("invalid")
            if not amount.is_finite():
                self.fail("invalid")
        else:
            self.fail("invalid")
        if amount.as_tuple().exponent < -2:
            self.fail("max_decimal_places")
        if amount < MIN_ORDER_AMOUNT:
            self.fail("min_value")
        if amount > MAX_ORDER_AMOUNT:
            self.fail("max_value")
        return amount.quantize(Decimal("0.01"))

    def to_representation(self, value: Decimal) -> str:
        return f"{value:.2f}"


class OrderCreateInputSerializer(serializers.Serializer):
    amount = RupeeAmountField()


class OrderOutputSerializer(serializers.Serializer):
    order_id = serializers.CharField(source="razorpay_order_id")
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    amount_paise = serializers.IntegerField()
    currency = serializers.CharField()
    key_id = serializers.SerializerMethodField(help_text="Razorpay key id to open checkout with.")

    def get_key_id(self, order) -> str:
        return settings.RAZORPAY_KEY_ID


class PaymentVerifyInputSerializer(serializers.Serializer):
    razorpay_order_id = serializers.CharField(max_length=64)
    razorpay_payment_id = serializers.CharField(max_length=64)
    razorpay_signature = serializers.CharField(max_length=128)


class WebhookAckOutputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["processed", "duplicate"])
