from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from accounts.authentication import signed_in_user
from config.admin import ReadOnlyAdmin
from config.exceptions import DomainError
from wallet.forms import AdjustmentForm
from wallet.models import Hold, Transaction, Wallet
from wallet.services import wallet_adjust


def can_write_ledger(request: HttpRequest) -> bool:
    """Credits, adjustments and refunds each add a ledger line: they need that permission."""
    return request.user.has_perm("wallet.add_transaction")


def ask_then_apply(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet,
    *,
    form_class: type[forms.Form],
    title: str,
    explanation: str,
    apply: Callable[[Any, dict], str],
) -> TemplateResponse | None:
    """An admin action that first asks for a form, then runs `apply(obj, form data)` on each
    selected object and reports what each one did (or the domain error that stopped it)."""
    form = form_class(request.POST if "apply" in request.POST else None)
    if form.is_bound and form.is_valid():
        for obj in queryset:
            try:
                modeladmin.message_user(request, f"{obj}: {apply(obj, form.cleaned_data)}", messages.SUCCESS)
            except DomainError as exc:
                modeladmin.message_user(request, f"{obj}: {exc.detail}", messages.ERROR)
        return None
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "explanation": explanation,
        "opts": modeladmin.model._meta,
        "queryset": queryset,
        "form": form,
        "action": request.POST["action"],
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, "admin/wallet/action_form.html", context)


@admin.register(Wallet)
class WalletAdmin(ReadOnlyAdmin):
    list_display = ["user", "balance", "held", "demo_minutes_remaining", "total_credited", "total_spent", "updated_at"]
    search_fields = ["user__email"]
    list_select_related = ["user"]
    actions = ["credit_or_adjust"]

    def has_ledger_permission(self, request) -> bool:
        return can_write_ledger(request)

    @admin.action(description="Credit or adjust the selected wallets", permissions=["ledger"])
    def credit_or_adjust(self, request: HttpRequest, queryset: QuerySet):
        def adjust(wallet: Wallet, data: dict) -> str:
            line = wallet_adjust(
                wallet_id=wallet.pk,
                amount=data["amount"],
                demo_minutes=data["demo_minutes"],
                reason=data["reason"],
                created_by=signed_in_user(request),
            )
            return f"balance ₹{line.balance_after}, demo minutes {line.demo_minutes_after}."

        return ask_then_apply(
            self,
            request,
            queryset,
            form_class=AdjustmentForm,
            title="Credit or adjust",
            explanation="Add to (or take from) each selected wallet's balance and demo minutes. "
            "Each wallet gets one adjustment line on its ledger; money that is held cannot be taken.",
            apply=adjust,
        )


@admin.register(Transaction)
class TransactionAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "wallet", "type", "amount", "demo_minutes", "balance_after", "reference"]
    list_filter = ["type", "created_at"]
    search_fields = ["wallet__user__email", "reference", "payment_id", "subject_id"]
    list_select_related = ["wallet__user"]
    date_hierarchy = "created_at"


@admin.register(Hold)
class HoldAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "wallet",
        "subject_type",
        "subject_id",
        "amount",
        "demo_minutes",
        "status",
        "settled_at",
    ]
    list_filter = ["status", "subject_type", "created_at"]
    search_fields = ["wallet__user__email", "subject_id"]
    list_select_related = ["wallet__user"]
