from datetime import datetime

from django.db.models import Q, QuerySet

from payments.models import Payment, ReconcileRun, Refund

UNSETTLED_REFUND = (Refund.Status.PENDING, Refund.Status.CREATED)


def payment_flagged() -> QuerySet[Payment]:
    """Captured payments whose amount differs from their order's: not credited, and no admin has
    dealt with them yet."""
    return (
        Payment.objects.filter(status=Payment.Status.CAPTURED, flagged=True, reviewed_at__isnull=True)
        .select_related("order__user")
        .order_by("-created_at")
    )


def refund_needing_attention(*, unsettled_before: datetime) -> QuerySet[Refund]:
    """Refunds the wallet could not wholly cover that no admin has dealt with yet, and refunds
    Razorpay has not settled since before `unsettled_before`, newest first."""
    short = Q(flagged=True, reviewed_at__isnull=True)
    unsettled = Q(status__in=UNSETTLED_REFUND, created_at__lt=unsettled_before)
    return Refund.objects.filter(short | unsettled).select_related("payment__order__user").order_by("-created_at")


def reconcile_last() -> ReconcileRun | None:
    return ReconcileRun.objects.first()
