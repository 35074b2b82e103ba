from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.authentication import signed_in_user
from config.exceptions import DomainError
from transcriptions.models import Transcription
from transcriptions.services import transcription_refund, transcription_retry
from wallet.admin import ask_then_apply, can_write_ledger
from wallet.forms import RefundForm


@admin.action(description="Refund the selected transcriptions", permissions=["refund"])
def refund_transcriptions(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet):
    """Give back what each completed transcription cost, once."""

    def refund(transcription: Transcription, data: dict) -> str:
        line = transcription_refund(
            transcription=transcription, reason=data["reason"], created_by=signed_in_user(request)
        )
        return f"refunded ₹{line.amount} and {line.demo_minutes} demo minutes."

    return ask_then_apply(
        modeladmin,
        request,
        queryset,
        form_class=RefundForm,
        title="Refund",
        explanation="Give back the money and demo minutes these transcriptions cost. Each is refunded at most once.",
        apply=refund,
    )


@admin.register(Transcription)
class TranscriptionAdmin(admin.ModelAdmin):
    list_display = ["audio_filename", "user", "status", "engine", "billable_minutes", "amount", "created_at"]
    list_filter = ["status", "engine", "created_at"]
    search_fields = ["audio_filename", "user__email", "id", "text"]
    list_select_related = ["user"]
    readonly_fields = [f.name for f in Transcription._meta.fields]
    actions = ["retry", refund_transcriptions]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(
        description="Retry selected failed transcriptions (a new job, paid from the user's wallet)",
        permissions=["change"],
    )
    def retry(self, request, queryset):
        for transcription in queryset.select_related("user"):
            try:
                job = transcription_retry(transcription=transcription)
            except DomainError as exc:
                self.message_user(request, f"{transcription}: {exc.detail}", messages.ERROR)
            else:
                self.message_user(request, f"{transcription}: retried as {job.pk} ({job.status}).", messages.SUCCESS)

    def has_refund_permission(self, request) -> bool:
        return can_write_ledger(request)
