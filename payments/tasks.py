import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from payments.exceptions import PaymentProviderUnavailable, PaymentsNotConfigured
from payments.services import payments_reconcile_run

logger = logging.getLogger(__name__)


@shared_task(name="payments.reconcile", ignore_result=True, soft_time_limit=600, time_limit=660)
def reconcile() -> None:
    """Beat runs this every PAYMENTS_RECONCILE_INTERVAL_SECONDS over the last
    PAYMENTS_RECONCILE_WINDOW_HOURS; each run is kept for the dashboard, one that could not reach
    Razorpay too. Nothing to do without Razorpay keys."""
    until = timezone.now()
    try:
        payments_reconcile_run(since=until - timedelta(hours=settings.PAYMENTS_RECONCILE_WINDOW_HOURS), until=until)
    except PaymentsNotConfigured:
        return
    except PaymentProviderUnavailable:
        logger.warning("Reconciliation with Razorpay skipped: Razorpay did not answer; the next run covers it")
