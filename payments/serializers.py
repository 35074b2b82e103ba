import re
from decimal import Decimal

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
class RupeeAmountField(serializers.DecimalField):
    """DRF's `DecimalField` (2 places, the order limits, a string out) taking rupees as a string
    ("100.50") or a JSON number. Strings must be plain ASCII decimals: `Decimal()` would also read a
    sign, an exponent, spaces, underscores and other scripts' digits. A JSON number reaches DRF as a
    float, which it reads through `str()`: exact for the at most 10 digits an order can have."""

    default_error_messages = {
        "invalid": 'Enter the amount in rupees as a string or a number, e.g. "100.00".',
        "max_decimal_places": "Use at most 2 decimal places.",
        "min_value": f"The smallest top-up is ₹{MIN_ORDER_AMOUNT}.",
        "max_value": f"The largest top-up is ₹{MAX_ORDER_AMOUNT}.",
        # Checked before the limits: too many digits is too large.
        "max_digits": f"The largest top-up is ₹{MAX_ORDER_AMOUNT}.",
        "max_whole_digits": f"The largest top-up is ₹{MAX_ORDER_AMOUNT}.",
    }

    def __init__(self, **kwargs) -> None:
        digits = len(str(MAX_ORDER_AMOUNT.quantize(Decimal("0.01"))).replace(".", ""))
        super().__init__(
            max_digits=digits, decimal_places=2, min_value=MIN_ORDER_AMOUNT, max_value=MAX_ORDER_AMOUNT, **kwargs
        )

    def to_internal_value(self, data) -> Decimal:
        if (
            isinstance(data, bool)
            or not isinstance(data, str | int | float)
            or (isinstance(data, str) and not _PLAIN_DECIMAL.fullmatch(data))
        ):
            self.fail("invalid")
        return super().to_internal_value(data)


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
