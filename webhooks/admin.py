from django.contrib import admin
from django.http import HttpRequest

from config.admin import confirmed_action
from webhooks.models import Delivery, Endpoint
from webhooks.services import webhook_endpoint_disable, webhook_endpoint_enable


@confirmed_action(
    description="Disable the selected endpoints",
    permissions=["change"],
    title="Disable",
    explanation="Nothing more is sent to these endpoints; their owners see the reason in the API.",
)
def disable(request: HttpRequest, endpoint: Endpoint, data: dict) -> str:
    webhook_endpoint_disable(endpoint=endpoint, reason=f"Disabled by an admin: {data['reason']}")
    return "disabled."


@confirmed_action(
    description="Enable the selected endpoints again",
    permissions=["change"],
    title="Enable",
    explanation="These endpoints are sent events again, from now on (what failed meanwhile is not resent).",
)
def enable(request: HttpRequest, endpoint: Endpoint, data: dict) -> str:
    webhook_endpoint_enable(endpoint=endpoint)
    return "enabled: events from now on are sent."


@admin.register(Endpoint)
class EndpointAdmin(admin.ModelAdmin):
    list_display = ["url", "user", "events", "created_at", "disabled_at", "disabled_reason"]
    list_filter = [("disabled_at", admin.EmptyFieldListFilter), "created_at"]
    search_fields = ["url", "user__email"]
    list_select_related = ["user"]
    readonly_fields = ["id", "user", "url", "events", "created_at", "disabled_at", "disabled_reason"]
    exclude = ["secret"]
    actions = [disable, enable]


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["event_type", "url", "status", "attempts", "last_status_code", "last_error", "created_at"]
    list_filter = ["status", "event_type", "created_at"]
    search_fields = ["=event_id", "url", "user__email"]
    date_hierarchy = "created_at"
    show_full_result_count = False  # a filtered page would count the whole table too
    readonly_fields = [field.name for field in Delivery._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False
