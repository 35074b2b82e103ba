"""How fast the payment endpoints answer, against `/ready/` (the same stack and one query) in the same run.

Razorpay wants a webhook answered within 5 s; this shows how far under that we are, for a
first delivery (which credits a wallet), a repeated delivery, and a checkout verify; then 20
verifies and 20 webhooks for one payment released together (MariaDB/MySQL only: SQLite has one writer).
Runs in-process on a throwaway database (`<name>_payments` next to DATABASE_URL's, or a SQLite file).

    DATABASE_URL=mysql://root@127.0.0.1:3306/bench python -m bench.payments [--requests 300]
"""

import argparse
import os
import statistics
import threading
import time
from collections.abc import Callable

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from accounts.services import user_create, user_issue_tokens  # noqa: E402
from bench.common import Row, print_rows, throwaway_database  # noqa: E402
from payments.models import Order  # noqa: E402
from tests.payments.fakes import (  # noqa: E402
    KEY_ID,
    KEY_SECRET,
    WEBHOOK_SECRET,
    new_payment_id,
    payment_entity,
    post_webhook,
    verify_body,
    webhook_event,
)
from wallet.models import Transaction  # noqa: E402


def timed(call: Callable[[], int], n: int) -> list[float]:
    durations = []
    for _ in range(n):
        start = time.perf_counter()
        status = call()
        durations.append((time.perf_counter() - start) * 1000)
        assert status == 200, status
    return durations


def summary(durations: list[float]) -> str:
    p99 = statistics.quantiles(durations, n=100)[98]
    return f"median {statistics.median(durations):6.2f} ms   p99 {p99:6.2f} ms"


def new_order(user, n: int) -> Order:
    # Orders as `order_create` stores them; Razorpay is not part of what is measured here.
    return Order.objects.create(
        user=user, razorpay_order_id=f"order_bench{n:08d}", receipt=f"rcpt_bench{n:08d}", amount=100, amount_paise=10000
    )


def race(user, order: Order) -> tuple[float, int]:
    token = user_issue_tokens(user=user)["access"]
    payment_id = new_payment_id()
    entity = payment_entity(payment_id=payment_id, order_id=order.razorpay_order_id, amount_paise=order.amount_paise)
    barrier = threading.Barrier(40)
    statuses: list[int] = []

    def verify() -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        barrier.wait()
        statuses.append(
            client.post(
                "/api/wallet/verify_payment/", verify_body(order.razorpay_order_id, payment_id), format="json"
            ).status_code
        )
        connection.close()

    def webhook(n: int) -> None:
        barrier.wait()
        event = webhook_event("payment.captured", entity)
        statuses.append(post_webhook(Client(), event, event_id=f"evt_race_{n}").status_code)
        connection.close()

    threads = [threading.Thread(target=verify) for _ in range(20)]
    threads += [threading.Thread(target=webhook, args=(n,)) for n in range(20)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = (time.perf_counter() - start) * 1000
    assert statuses == [200] * 40, statuses
    return elapsed, Transaction.objects.filter(payment_id=payment_id).count()


def measure(requests: int) -> list[Row]:
    user = user_create(email="bench-payments@example.com")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {user_issue_tokens(user=user)['access']}")
    client = Client()
    orders = iter(new_order(user, n) for n in range(2 * requests + 1))

    def first_delivery() -> int:
        order = next(orders)
        entity = payment_entity(payment_id=new_payment_id(), order_id=order.razorpay_order_id, amount_paise=10000)
        return post_webhook(client, webhook_event("payment.captured", entity), event_id=new_payment_id()).status_code

    repeated = webhook_event(
        "payment.captured", payment_entity(payment_id=new_payment_id(), order_id=None, amount_paise=1)
    )
    post_webhook(client, repeated, event_id="evt_repeated")

    def verify() -> int:
        order = next(orders)
        body = verify_body(order.razorpay_order_id, new_payment_id())
        return api.post("/api/wallet/verify_payment/", body, format="json").status_code

    timed(lambda: client.get("/ready/").status_code, 50)  # warm up
    ready = timed(lambda: client.get("/ready/").status_code, requests)
    first = timed(first_delivery, requests)
    again = timed(lambda: post_webhook(client, repeated, event_id="evt_repeated").status_code, requests)
    verified = timed(verify, requests)
    base = statistics.median(ready)
    print(f"GET /ready/ (baseline): {summary(ready)}")
    for name, durations in (("repeated delivery", again), ("verify_payment (credits)", verified)):
        print(f"{name}: {summary(durations)}   x{statistics.median(durations) / base:5.1f}")
    first_median = statistics.median(first)
    rows = [
        Row(
            "payment webhook, first delivery (credits)",
            f"{first_median:.2f} ms (p99 {statistics.quantiles(first, n=100)[98]:.2f} ms)",
            f"GET /ready/: {base:.2f} ms",
            first_median / base,
            "< 5 s (Razorpay's timeout)",
            first_median < 5000,
        )
    ]
    if connection.vendor != "sqlite":
        elapsed, credits = race(user, next(orders))
        rows.append(
            Row(
                "payments: 20 verifies + 20 webhooks of one payment at once",
                f"{credits} credit, all answered in {elapsed:.0f} ms",
                target="1 credit",
                met=credits == 1,
            )
        )
    return rows


def run(*, requests: int = 300) -> list[Row]:
    setup_test_environment()
    with (
        throwaway_database("payments"),
        override_settings(
            RAZORPAY_KEY_ID=KEY_ID, RAZORPAY_KEY_SECRET=KEY_SECRET, RAZORPAY_WEBHOOK_SECRET=WEBHOOK_SECRET
        ),
    ):
        return measure(requests)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    print_rows(
        f"Payment endpoints on {connection.vendor}, {args.requests} requests each, in-process",
        run(requests=args.requests),
    )
