import django_filters

from config.filters import StrictFilterSet
from wallet.models import Transaction


class TransactionFilter(StrictFilterSet):
    type = django_filters.MultipleChoiceFilter(
        choices=Transaction.Type.choices, help_text="Only lines of these types (repeat for several)."
    )
    created_after = django_filters.DateTimeFilter(
        field_name="created_at", lookup_expr="gte", help_text="On or after this date or ISO 8601 date-time."
    )
    created_before = django_filters.DateTimeFilter(
        field_name="created_at", lookup_expr="lt", help_text="Before this date or ISO 8601 date-time."
    )

    class Meta:
        model = Transaction
        fields = ["type", "created_after", "created_before"]
