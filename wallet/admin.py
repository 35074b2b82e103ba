from django.contrib import admin

from wallet.models import Hold, Transaction, Wallet


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Wallet)
class WalletAdmin(ReadOnlyAdmin):
    list_display = ["user", "balance", "held", "demo_minutes_remaining", "total_credited", "total_spent", "updated_at"]
    search_fields = ["user__email"]
    list_select_related = ["user"]


@admin.register(Transaction)
class TransactionAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "wallet", "type", "amount", "demo_minutes", "balance_after", "reference"]
    list_filter = ["type", "created_at"]
    search_fields = ["wallet__user__email", "reference", "payment_id"]
    list_select_related = ["wallet__user"]
    date_hierarchy = "created_at"


@admin.register(Hold)
class HoldAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "wallet", "transcription", "amount", "demo_minutes", "status", "settled_at"]
    list_filter = ["status", "created_at"]
    search_fields = ["wallet__user__email", "transcription__id"]
    list_select_related = ["wallet__user"]
