from celery import shared_task

from wallet.audit import wallet_audit_run


@shared_task(name="wallet.audit_ledger", ignore_result=True)
def audit_ledger() -> None:
    """Beat runs this every LEDGER_AUDIT_INTERVAL_SECONDS; the run is kept for the dashboard."""
    wallet_audit_run()
