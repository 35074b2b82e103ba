from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """For records only the service writes (ledger lines, holds, webhook deliveries): admins look, never edit."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
