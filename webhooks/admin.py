from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from config.admin import ReasonForm, ask_then_apply
from webhooks.models import Delivery, Endpoint
from webhooks.services import webhook_endpoint_disable, webhook_endpoint_enable


@admin.register(Endpoint)
class EndpointAdmin(admin.ModelAdmin):
    list_display = ["url", "user", "events", "created_at", "disabled_at", "disabled_reason"]
    list_filter = [("disabled_at", admin.EmptyFieldListFilter), "created_at"]
    search_fields = ["url", "user__email"]
    list_select_related = ["user"]
    readonly_fields = ["id", "user", "url", "events", "created_at", "disabled_at", "disabled_reason"]
    exclude = ["secret"]
    actions = ["disable", "enable"]

    @admin.action(description="Disable the selected endpoints", permissions=["change"])
    def disable(self, request: HttpRequest, queryset: QuerySet):
        def disable(endpoint: Endpoint, data: dict) -> str:
            webhook_endpoint_disable(endpoint=endpoint, reason=f"Disabled by an admin: {data['reason']}")
            return "disabled."

        return ask_then_apply(
            self,
            request,
            queryset,
            form_class=ReasonForm,
            title="Disable",
            explanation="Nothing more is sent to these endpoints; their owners see the reason in the API.",
            apply=disable,
        )

    @admin.action(description="Enable the selected endpoints again", permissions=["change"])
    def enable(self, request: HttpRequest, queryset: QuerySet):
        def enable(endpoint: Endpoint, data: dict) -> str:
            webhook_endpoint_enable(endpoint=endpoint)
            return "enabled: events from now on are sent."

        return ask_then_apply(
            self,
            request,
            queryset,
            form_class=ReasonForm,
            title="Enable",
            explanation="These endpoints are sent events again, from now on (what failed meanwhile is not resent).",
            apply=enable,
        )


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
