from django.contrib import admin, messages

from config.exceptions import DomainError
from transcriptions.models import Transcription
from transcriptions.services import transcription_retry
from wallet.admin import can_write_ledger, refund_transcriptions


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

    @admin.action(description="Retry selected failed transcriptions (a new job, paid from the user's wallet)")
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
