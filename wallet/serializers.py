from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from wallet.models import SubjectType, Transaction


def _money() -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)


def _minutes() -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=10, decimal_places=2, read_only=True)


class WalletDetailsOutputSerializer(serializers.Serializer):
    """Serialises `wallet.selectors.WalletDetails`; money and minutes as strings with 2 places."""

    balance = _money()
    held = _money()
    available = _money()
    currency = serializers.CharField(read_only=True)
    demo_minutes_remaining = _minutes()
    demo_minutes_held = _minutes()
    demo_minutes_available = _minutes()
    rate_per_minute = _money()
    total_credited = _money()
    total_spent = _money()
    total_refunded = _money()
    total_minutes_transcribed = _minutes()


class TransactionOutputSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    transcription = serializers.SerializerMethodField()

    class Meta:
        model = Transaction
        fields = [
            "id",
            "type",
            "amount",
            "demo_minutes",
            "minutes",
            "balance_before",
            "balance_after",
            "demo_minutes_before",
            "demo_minutes_after",
            "description",
            "payment_id",
            "transcription",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.UUIDField(allow_null=True))
    def get_transcription(self, line: Transaction) -> str | None:
        return line.subject_id if line.subject_type == SubjectType.TRANSCRIPTION else None
