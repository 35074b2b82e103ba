import django_filters
from django.db.models import Q

from config.filters import StrictFilterSet
from transcriptions.models import Transcription


class TranscriptionFilter(StrictFilterSet):
    status = django_filters.ChoiceFilter(choices=Transcription.Status.choices)
    source = django_filters.ChoiceFilter(
        choices=Transcription.Source.choices, label="The way it was asked for: `api`, `openai` (/v1) or `realtime`."
    )
    created_after = django_filters.DateTimeFilter(
        field_name="created_at", lookup_expr="gte", label="Created at or after (ISO 8601 date or date-time)."
    )
    created_before = django_filters.DateTimeFilter(
        field_name="created_at", lookup_expr="lt", label="Created before (ISO 8601 date or date-time)."
    )
    search = django_filters.CharFilter(method="filter_search", label="Words in the transcript or the file name.")
    ordering = django_filters.OrderingFilter(
        fields=["created_at", "completed_at", "audio_filename", "audio_duration_seconds", "amount", "status"]
    )

    class Meta:
        model = Transcription
        fields = ["status", "source"]

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        # End on a unique key, so rows that tie on the chosen field keep one order from page to page.
        # Ascending: the primary key InnoDB appends to the (user, deleted_at, -created_at) index runs that way.
        return queryset.order_by(*(queryset.query.order_by or Transcription._meta.ordering or ()), "pk")

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(text__icontains=value) | Q(audio_filename__icontains=value))
