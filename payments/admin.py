from decimal import Decimal

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from accounts.authentication import signed_in_user
from config.admin import ReadOnlyAdmin, confirmed_action, money
from payments.models import Order, Payment, ReconcileRun, Refund, WebhookEvent
from payments.services import flag_review, payment_unrefunded, refund_start
from wallet.admin import can_write_ledger


class PaymentRefundForm(forms.Form):
    amount = forms.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
        required=False,
        help_text="Rupees to pay back to the card; empty for all that is not refunded yet.",
    )
    reason = forms.CharField(max_length=500, widget=forms.Textarea, help_text="Kept on the refund.")


class RefundInline(admin.TabularInline):
    model = Refund
    extra = 0
    can_delete = False
    fields = readonly_fields = (
        "razorpay_refund_id",
        "amount",
        "from_wallet",
        "flagged",
        "status",
        "source",
        "reason",
        "created_at",
    )


class PaymentInline(admin.TabularInline):
    model = Payment
    extra = 0
    can_delete = False
    readonly_fields = ["razorpay_payment_id", "amount_paise", "status", "method", "error", "flagged", "created_at"]


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["razorpay_order_id", "user", money("amount"), "status", "created_at"]
    list_filter = ["status", "created_at"]
    search_fields = ["razorpay_order_id", "receipt", "user__email", "payments__razorpay_payment_id"]
    list_select_related = ["user"]
    readonly_fields = [f.name for f in Order._meta.fields]
    inlines = [PaymentInline]

    def has_add_permission(self, request) -> bool:
        return False


@confirmed_action(
    description="Mark flagged ones as dealt with",
    permissions=["ledger"],
    title="Dealt with",
    explanation="Say what was done about each flagged one (credited by hand, refunded on Razorpay's "
    "dashboard, ...): it leaves the operations dashboard's list, and the note stays on it.",
)
def mark_reviewed(request: HttpRequest, record: Payment | Refund, data: dict) -> str:
    flag_review(record=record, note=data["reason"])
    return "marked as dealt with; it stays flagged, so nothing credits or refunds it on its own."


REFUND_OUTCOMES: dict[str, str] = {
    Refund.Status.PENDING: "Razorpay has not answered; the wallet holds the amount until it does.",
    Refund.Status.CREATED: "the wallet holds the amount until Razorpay has paid it back.",
    Refund.Status.PROCESSED: "paid back to the card, out of the wallet.",
    Refund.Status.FAILED: "Razorpay refused it; the wallet keeps the amount.",
}


@confirmed_action(
    description="Refund the selected payments to their cards",
    permissions=["ledger"],
    title="Refund to the card",
    explanation="Pay back part or all of each payment through Razorpay, out of the user's wallet: never "
    "more than is not refunded yet, nor more than the wallet has available (money spent on "
    "transcriptions stays spent).",
    form_class=PaymentRefundForm,
)
def refund(request: HttpRequest, payment: Payment, data: dict) -> str:
    amount = data["amount"] or payment_unrefunded(payment=payment)
    started = refund_start(payment=payment, amount=amount, reason=data["reason"], created_by=signed_in_user(request))
    return f"refund of ₹{started.amount} {started.status}: {REFUND_OUTCOMES[started.status]}"


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    list_display = [
        "razorpay_payment_id",
        "order",
        money("amount_paise", "amount", paise=True),
        "status",
        "flagged",
        "reviewed_at",
        "created_at",
    ]
    list_filter = ["status", "flagged", ("reviewed_at", admin.EmptyFieldListFilter), "created_at"]
    search_fields = ["razorpay_payment_id", "order__razorpay_order_id", "order__user__email"]
    list_select_related = ["order"]
    readonly_fields = [f.name for f in Payment._meta.fields]
    inlines = [RefundInline]
    actions = [refund, mark_reviewed]

    def has_add_permission(self, request) -> bool:
        return False

    def has_ledger_permission(self, request) -> bool:
        return can_write_ledger(request)


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = [
        "payment",
        "razorpay_refund_id",
        money("amount"),
        money("from_wallet", "from the wallet"),
        "flagged",
        "reviewed_at",
        "status",
        "source",
        "created_at",
    ]
    list_filter = ["status", "flagged", ("reviewed_at", admin.EmptyFieldListFilter), "source", "created_at"]
    search_fields = ["razorpay_refund_id", "payment__razorpay_payment_id", "payment__order__user__email"]
    list_select_related = ["payment"]
    actions = [mark_reviewed]

    def has_ledger_permission(self, request) -> bool:
        return can_write_ledger(request)


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ["event_id", "event", "received_at", "processed_at"]
    list_filter = ["event", "received_at"]
    search_fields = ["event_id"]


@admin.register(ReconcileRun)
class ReconcileRunAdmin(ReadOnlyAdmin):
    list_display = [
        "started_at",
        "ok",
        "since",
        "payments_seen",
        "credited",
        "needs_attention",
        "refund_differences",
        "summary",
    ]
    list_filter = ["ok", "started_at"]
    search_fields = ["summary", "report"]  # a payment or refund id named in a difference
    date_hierarchy = "started_at"
