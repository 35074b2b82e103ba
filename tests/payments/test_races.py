"""Verify and webhooks for one payment arriving together: one credit, whoever wins.

On MariaDB/MySQL the threads really race for row locks and unique keys. SQLite has no row locks
and lets one writer at a time, so there the same calls run one after another."""

import threading
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.db import connection
from rest_framework.test import APIClient

from accounts.services import user_issue_tokens
from payments.models import Order, Payment, WebhookEvent
from tests.payments.fakes import new_payment_id, payment_entity, post_webhook, verify_body, webhook_event
from wallet.models import Transaction

VERIFY_URL = "/api/wallet/verify_payment/"
ATTEMPTS = 20  # of each: verify, webhook


def run_together(calls: list[Callable[[], int]]) -> list:
    """Run each call in its own thread (own database connection), all released at once."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index: int, call: Callable[[], int]) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = call()
        except Exception as exc:  # reported through the results, asserted below
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n, call)) for n, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def run_all(calls: list[Callable[[], int]]) -> list:
    if connection.vendor == "sqlite":
        return [call() for call in calls]  # SQLite has no row locks: the same calls, in turn
    return run_together(calls)


def verify_and_webhook_calls(user, order: Order, payment_id: str) -> list[Callable[[], int]]:
    token = user_issue_tokens(user=user)["access"]
    body = verify_body(order.razorpay_order_id, payment_id)
    entity = payment_entity(payment_id=payment_id, order_id=order.razorpay_order_id, amount_paise=order.amount_paise)

    def verify() -> int:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return client.post(VERIFY_URL, body, format="json").status_code

    def webhook(n: int) -> Callable[[], int]:
        # Four distinct deliveries, each repeated: captures under both event names, and duplicates.
        event = webhook_event("payment.captured" if n % 2 else "order.paid", entity)
        return lambda: post_webhook(APIClient(), event, event_id=f"evt_{payment_id}_{n % 4}").status_code

    calls: list[Callable[[], int]] = []
    for n in range(ATTEMPTS):
        calls += [verify, webhook(n)]
    return calls


@pytest.mark.mysql
@pytest.mark.django_db(transaction=True)
def test_verify_and_webhooks_racing_for_one_payment_credit_it_once(user, make_order):
    order = make_order(user, "250.00")
    payment_id = new_payment_id()
    calls = verify_and_webhook_calls(user, order, payment_id)

    results = run_all(calls)

    assert results == [200] * len(calls)
    [credit] = Transaction.objects.filter(payment_id=payment_id)
    assert credit.amount == Decimal("250.00")
    wallet = user.wallet
    wallet.refresh_from_db()
    assert (wallet.balance, wallet.total_credited) == (Decimal("250.00"), Decimal("250.00"))
    assert Payment.objects.get(razorpay_payment_id=payment_id).status == Payment.Status.CAPTURED
    assert Order.objects.get(pk=order.pk).status == Order.Status.PAID
    assert WebhookEvent.objects.count() == 4


@pytest.mark.mysql
@pytest.mark.django_db(transaction=True)
def test_payments_of_one_user_racing_on_several_orders_each_credit_once(user, make_order):
    # Different payments share the wallet row: every one is credited, none twice, the sum adds up.
    orders = [make_order(user, amount) for amount in ("1.00", "2.50", "10.00", "99.99")]
    calls = []
    for order in orders:
        calls += verify_and_webhook_calls(user, order, new_payment_id())[:10]

    results = run_all(calls)

    assert results == [200] * len(calls)
    amounts = sorted(Transaction.objects.filter(payment_id__isnull=False).values_list("amount", flat=True))
    assert amounts == [Decimal("1.00"), Decimal("2.50"), Decimal("10.00"), Decimal("99.99")]
    wallet = user.wallet
    wallet.refresh_from_db()
    assert wallet.balance == Decimal("113.49")
