from celery import shared_task

from wallet.audit import wallet_audit_run


# Bounded like every task; a run cut short by the soft limit says so on the dashboard.
@shared_task(name="wallet.audit_ledger", ignore_result=True, soft_time_limit=3600, time_limit=3660)
def audit_ledger() -> None:
    """Beat runs this every LEDGER_AUDIT_INTERVAL_SECONDS; the run is kept for the dashboard."""
    wallet_audit_run()
