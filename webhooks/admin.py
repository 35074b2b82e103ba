from django.contrib import admin

from webhooks.models import Delivery, Endpoint


@admin.register(Endpoint)
class EndpointAdmin(admin.ModelAdmin):
    list_display = ["url", "user", "events", "created_at", "disabled_at"]
    list_filter = ["disabled_at"]
    search_fields = ["url", "user__email"]
    readonly_fields = ["id", "user", "url", "events", "created_at", "disabled_at", "disabled_reason"]
    exclude = ["secret"]


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["event_type", "url", "status", "attempts", "last_status_code", "created_at"]
    list_filter = ["status", "event_type"]
    search_fields = ["event_id", "url", "user__email"]
    readonly_fields = [field.name for field in Delivery._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False
