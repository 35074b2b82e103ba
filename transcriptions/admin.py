from django.contrib import admin

from transcriptions.models import Transcription
from wallet.admin import can_write_ledger, refund_transcriptions


@admin.register(Transcription)
class TranscriptionAdmin(admin.ModelAdmin):
    list_display = ["audio_filename", "user", "status", "engine", "billable_minutes", "amount", "created_at"]
    list_filter = ["status", "engine", "created_at"]
    search_fields = ["audio_filename", "user__email", "id", "text"]
    list_select_related = ["user"]
    readonly_fields = [f.name for f in Transcription._meta.fields]
    actions = [refund_transcriptions]

    def has_add_permission(self, request) -> bool:
        return False

    def has_refund_permission(self, request) -> bool:
        return can_write_ledger(request)
