from collections.abc import Callable
from decimal import Decimal
from functools import wraps
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from config.exceptions import DomainError

CURRENCY_SYMBOLS = {"INR": "₹"}


def rupees(amount: Decimal) -> str:
    """An amount with its currency, as people read it: `₹1,250.00`."""
    return f"{CURRENCY_SYMBOLS.get(settings.CURRENCY, settings.CURRENCY + ' ')}{amount:,.2f}"


def money(field: str, description: str = "", *, paise: bool = False) -> Callable[[Any], str]:
    """A list column showing a money field with its currency (`₹1,250.00`), sortable by the field."""

    @admin.display(description=description or field.replace("_", " "), ordering=field)
    def show(obj: Any) -> str:
        value = getattr(obj, field)
        if value is None:
            return "-"
        return rupees(Decimal(value) / 100 if paise else Decimal(value))

    return show


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=500, widget=forms.Textarea, help_text="Kept in the admin log.")


class ReadOnlyAdmin(admin.ModelAdmin):
    """For records only the service writes (ledger lines, holds, webhook deliveries): admins look, never edit."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


Apply = Callable[[HttpRequest, Any, dict], str]


def confirmed_action(
    *,
    description: str,
    permissions: list[str],
    title: str,
    explanation: str,
    form_class: type[forms.Form] = ReasonForm,
) -> Callable[[Apply], Callable[[admin.ModelAdmin, HttpRequest, QuerySet], TemplateResponse | None]]:
    """Makes `apply(request, obj, form data) -> what it did` an admin action (named after it) that
    first asks for `form_class` (with a reason, by convention) and explains what will happen; then
    runs `apply` on each selected object, reports what each one did (or the domain error that
    stopped it) and writes what it did, with the reason, to the admin log of that object."""

    def decorate(apply: Apply) -> Callable[[admin.ModelAdmin, HttpRequest, QuerySet], TemplateResponse | None]:
        @admin.action(description=description, permissions=permissions)
        @wraps(apply)
        def action(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> TemplateResponse | None:
            form = form_class(request.POST if "apply" in request.POST else None)
            if not (form.is_bound and form.is_valid()):
                return _ask(modeladmin, request, queryset, form=form, title=title, explanation=explanation)
            reason = form.cleaned_data.get("reason", "")
            for obj in queryset:
                # Named before `apply` changes it, and after its kind (the admin capitalises a message).
                name = f"{modeladmin.model._meta.verbose_name} {obj}"
                try:
                    outcome = apply(request, obj, form.cleaned_data)
                except DomainError as exc:
                    modeladmin.message_user(request, f"{name}: {exc.detail}", messages.ERROR)
                    continue
                modeladmin.message_user(request, f"{name}: {outcome}", messages.SUCCESS)
                modeladmin.log_change(request, obj, f"{title}: {outcome} Reason: {reason}".strip())
            return None

        return action

    return decorate


def _ask(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet,
    *,
    form: forms.Form,
    title: str,
    explanation: str,
) -> TemplateResponse:
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
    return TemplateResponse(request, "admin/action_form.html", context)
