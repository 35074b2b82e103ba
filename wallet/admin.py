from django.contrib import admin
from django.http import HttpRequest

from accounts.authentication import signed_in_user
from config.admin import ReadOnlyAdmin, confirmed_action, money
from wallet.forms import AdjustmentForm
from wallet.models import AuditRun, Hold, Transaction, Wallet
from wallet.services import wallet_adjust


def can_write_ledger(request: HttpRequest) -> bool:
    """Credits, adjustments and refunds each add a ledger line: they need that permission."""
    return request.user.has_perm("wallet.add_transaction")


@confirmed_action(
    description="Credit or adjust the selected wallets",
    permissions=["ledger"],
    title="Credit or adjust",
    explanation="Add to (or take from) each selected wallet's balance and demo minutes. "
    "Each wallet gets one adjustment line on its ledger; money that is held cannot be taken.",
    form_class=AdjustmentForm,
)
def credit_or_adjust(request: HttpRequest, wallet: Wallet, data: dict) -> str:
    line = wallet_adjust(
        wallet_id=wallet.pk,
        amount=data["amount"],
        demo_minutes=data["demo_minutes"],
        reason=data["reason"],
        created_by=signed_in_user(request),
    )
    return f"balance ₹{line.balance_after}, demo minutes {line.demo_minutes_after}."


@admin.register(Wallet)
class WalletAdmin(ReadOnlyAdmin):
    list_display = [
        "user",
        money("balance"),
        money("held"),
        "demo_minutes_remaining",
        money("total_credited"),
        money("total_spent"),
        money("total_refunded"),
        "updated_at",
    ]
    search_fields = ["user__email"]
    list_select_related = ["user"]
    actions = [credit_or_adjust]

    def has_ledger_permission(self, request) -> bool:
        return can_write_ledger(request)


@admin.register(Transaction)
class TransactionAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "wallet",
        "type",
        money("amount"),
        "demo_minutes",
        money("balance_after"),
        "reference",
    ]
    list_filter = ["type", "subject_type", "created_at"]
    search_fields = ["wallet__user__email", "reference", "payment_id", "subject_id"]
    show_full_result_count = False  # a filtered page would count the whole ledger too
    list_select_related = ["wallet__user"]
    date_hierarchy = "created_at"


@admin.register(Hold)
class HoldAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "wallet",
        "subject_type",
        "subject_id",
        money("amount"),
        "demo_minutes",
        "status",
        "settled_at",
    ]
    list_filter = ["status", "subject_type", "created_at"]
    search_fields = ["wallet__user__email", "subject_id"]
    list_select_related = ["wallet__user"]


@admin.register(AuditRun)
class AuditRunAdmin(ReadOnlyAdmin):
    list_display = ["started_at", "ok", "wallets_checked", "lines_replayed", "mismatches", "finished_at"]
    search_fields = ["summary", "report"]  # a wallet id or an email named in a mismatch
    list_filter = ["ok", "started_at"]
    date_hierarchy = "started_at"
