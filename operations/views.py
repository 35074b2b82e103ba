from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse

from operations.dashboard import dashboard_build

# The dashboard shows money, jobs, deliveries and payments with their users: staff who may see
# each of those (support, finance, superusers), not every staff account.
VIEWING = (
    "wallet.view_transaction",
    "transcriptions.view_transcription",
    "webhooks.view_delivery",
    "payments.view_payment",
)


def dashboard(request: HttpRequest) -> TemplateResponse:
    """Staff only (`urls.py` wraps it in the admin site's sign-in check), and only those who may
    see what it sums up."""
    if not request.user.has_perms(VIEWING):
        raise PermissionDenied
    figures = dashboard_build()
    context = {
        **admin.site.each_context(request),
        "title": "Operations dashboard",
        "dashboard": figures,
        "checks": [
            ("Ledger audit", figures.audit, reverse("admin:wallet_auditrun_changelist")),
            ("Reconciliation with Razorpay", figures.reconcile, reverse("admin:payments_reconcilerun_changelist")),
        ],
    }
    return TemplateResponse(request, "operations/dashboard.html", context)
