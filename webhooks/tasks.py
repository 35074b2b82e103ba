from celery import shared_task

from webhooks.services import DELIVER_TASK, webhook_attempt, webhook_dispatch_due


@shared_task(name=DELIVER_TASK, ignore_result=True)
def deliver(delivery_id: str) -> None:
    """One attempt; should it crash, the delivery is due again when its lease ends, and the sweep sends it."""
    webhook_attempt(delivery_id=delivery_id)


@shared_task(name="webhooks.dispatch_due", ignore_result=True)
def dispatch_due() -> None:
    """Beat runs this every WEBHOOK_DISPATCH_INTERVAL_SECONDS."""
    webhook_dispatch_due()
