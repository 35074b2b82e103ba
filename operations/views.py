from django.contrib import admin
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse

from operations.dashboard import dashboard_build


def dashboard(request: HttpRequest) -> TemplateResponse:
    """Staff only: `urls.py` wraps it in the admin site's own sign-in check."""
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
