from django.contrib import admin

from audio.models import AudioFile, PendingFileDeletion


@admin.register(AudioFile)
class AudioFileAdmin(admin.ModelAdmin):
    list_display = ["original_filename", "user", "format", "size_bytes", "duration_seconds", "created_at"]
    list_filter = ["format", "created_at"]
    search_fields = ["=id", "original_filename", "user__email"]
    list_select_related = ["user"]
    readonly_fields = [f.name for f in AudioFile._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(PendingFileDeletion)
class PendingFileDeletionAdmin(admin.ModelAdmin):
    """Stored files the storage refused to delete; beat tries again (STORED_FILE_DELETION_RETRY_SECONDS)."""

    list_display = ["name", "attempts", "last_error", "created_at"]
    search_fields = ["name"]
    readonly_fields = [f.name for f in PendingFileDeletion._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False
