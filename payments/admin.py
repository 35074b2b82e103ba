from django.contrib import admin

from config.admin import ReadOnlyAdmin
from payments.models import Order, Payment, WebhookEvent


class PaymentInline(admin.TabularInline):
    model = Payment
    extra = 0
    can_delete = False
    readonly_fields = ["razorpay_payment_id", "amount_paise", "status", "method", "error", "flagged", "created_at"]


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["razorpay_order_id", "user", "amount", "status", "created_at"]
    list_filter = ["status", "created_at"]
    search_fields = ["razorpay_order_id", "receipt", "user__email", "payments__razorpay_payment_id"]
    list_select_related = ["user"]
    readonly_fields = [f.name for f in Order._meta.fields]
    inlines = [PaymentInline]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    list_display = ["razorpay_payment_id", "order", "amount_paise", "status", "flagged", "created_at"]
    list_filter = ["status", "flagged", "created_at"]
    search_fields = ["razorpay_payment_id", "order__razorpay_order_id", "order__user__email"]
    list_select_related = ["order"]
    readonly_fields = [f.name for f in Payment._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ["event_id", "event", "received_at", "processed_at"]
    list_filter = ["event", "received_at"]
    search_fields = ["event_id"]
