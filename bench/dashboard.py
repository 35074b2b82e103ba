"""The operations dashboard over a busy month: `GET /admin/operations/` as a signed-in admin on
MariaDB with 100,000 transcriptions and 110,000 ledger lines spread over the last 30 days, in-process
through the whole stack (production settings, Django's test client).

Prints the queries the page makes (the same count as on an empty database: nothing grows with the
tables), the time of a first view with nothing cached, and the median latency after it (the
ledger's settled days then come from the cache) against the admin's index page, measured
alternately in the same run. Target: under 300 ms.

    python -m bench.dashboard [--rows 100000] [--rounds 20]

Works in a throwaway database `<name>_dashboard` next to BENCH_DATABASE_URL's, dropped at the end.
"""

import argparse
import os
import statistics
import time

from bench.common import Row, copy_rows, print_rows, production_env, throwaway_database

TARGET_MS = 300
# The rows go back 30 days from now, evenly.
SPREAD_SECONDS = 30 * 24 * 3600


def pick(values: list[str]) -> str:
    """An SQL expression taking the values in turn as `n` grows."""
    return f"ELT(MOD(n, {len(values)}) + 1, {', '.join(repr(value) for value in values)})"


def make_month(*, rows: int) -> None:
    """A month of work for 200 users: `rows` jobs (1 in 20 failed, a few stuck, a third on OpenAI),
    a debit for each and a top-up for every tenth, and some failing webhook deliveries."""
    from datetime import timedelta
    from decimal import Decimal

    from django.utils import timezone

    from accounts.services import user_create
    from transcriptions.models import Transcription
    from wallet.models import Transaction
    from webhooks.models import Delivery, Endpoint

    now = timezone.now()
    users = [user_create(email=f"bench-dashboard-{n}@example.com") for n in range(200)]
    job = Transcription.objects.create(
        user=users[0],
        audio_filename="call.mp3",
        audio_duration_seconds="300.000",
        status=Transcription.Status.COMPLETED,
        engine="local",
        model="whisper-base",
        text="What was said. " * 100,
        segments=[{"start": 0.0, "end": 5.0, "text": "What was said."}] * 60,
        progress=100,
        billable_minutes="5.00",
        charged_minutes="5.00",
        amount="5.00",
        started_at=now,
        completed_at=now,
    )
    user_ids = pick([str(user.pk) for user in users])
    when = f"t.created_at - INTERVAL FLOOR(n * {SPREAD_SECONDS // rows}) SECOND"
    copy_rows(
        Transcription,
        job.pk,
        rows=rows - 1,
        copied={
            "id": "REPLACE(UUID(), '-', '')",
            "user_id": user_ids,
            "engine": "IF(MOD(n, 3) = 0, 'openai', 'local')",
            "status": "IF(MOD(n, 20) = 0, 'failed', IF(MOD(n, 5000) = 1, 'processing', 'completed'))",
            "error_code": (
                "IF(MOD(n, 20) = 0, IF(MOD(n, 40) = 0, 'audio_unreadable', 'transcription_engine_unavailable'), '')"
            ),
            "deadline_at": f"IF(MOD(n, 5000) = 1, {when}, NULL)",
            "created_at": when,
            "updated_at": when,
        },
    )
    wallet = users[0].wallet
    line = Transaction.objects.create(
        wallet=wallet,
        type=Transaction.Type.DEBIT,
        amount=Decimal("-3.00"),
        demo_minutes=Decimal("-2.00"),
        minutes=Decimal("5.00"),
        balance_before=Decimal("1000.00"),
        balance_after=Decimal("997.00"),
        demo_minutes_before=Decimal("2.00"),
        demo_minutes_after=Decimal("0.00"),
        reference="bench-template",
        subject_type="transcription",
        subject_id="bench",
    )
    wallets = pick([str(user.wallet.pk) for user in users])
    ago = f"t.created_at - INTERVAL FLOOR(n * {SPREAD_SECONDS // rows}) SECOND"
    copy_rows(  # a debit a job
        Transaction,
        line.pk,
        rows=rows,
        copied={
            "public_id": "REPLACE(UUID(), '-', '')",
            "wallet_id": wallets,
            "reference": "CONCAT('debit-', n)",
            "created_at": ago,
        },
    )
    copy_rows(  # a top-up every ten jobs
        Transaction,
        line.pk,
        rows=rows // 10,
        copied={
            "public_id": "REPLACE(UUID(), '-', '')",
            "wallet_id": wallets,
            "type": "'credit'",
            "amount": "500",
            "balance_after": "1500",
            "demo_minutes": "0",
            "demo_minutes_after": "2",
            "minutes": "0",
            "subject_type": "''",
            "subject_id": "''",
            "reference": "CONCAT('credit-', n)",
            "payment_id": "CONCAT('pay_bench', n)",
            "created_at": f"t.created_at - INTERVAL FLOOR(n * {10 * SPREAD_SECONDS // rows}) SECOND",
        },
    )
    for user in users[:20]:
        endpoint = Endpoint.objects.create(user=user, url=f"https://hooks.example.com/{user.pk}", events=[])
        Delivery.objects.bulk_create(
            Delivery(
                user=user,
                endpoint=endpoint,
                url=endpoint.url,
                event_id=f"msg_{user.pk}_{n}",
                event_type="transcription.completed",
                payload={},
                status=Delivery.Status.FAILED if n % 2 else Delivery.Status.PENDING,
                attempts=1 + n % 8,
                last_error="HTTP 503",
                next_attempt_at=now + timedelta(minutes=n),
            )
            for n in range(50)
        )


def run(*, rows: int = 100_000, rounds: int = 20) -> list[Row]:
    os.environ.update(production_env())
    import django

    django.setup()
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User

    if connection.vendor != "mysql":
        raise SystemExit("This measures MySQL/MariaDB: set BENCH_DATABASE_URL=mysql://...")
    with throwaway_database("dashboard"):
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(User.objects.create_superuser("bench-admin@example.com", "pw-bench-admin-1"))

        def get(path: str) -> str:
            response = client.get(path, secure=True)
            assert response.status_code == 200, (path, response.status_code)
            return response.content.decode()

        with CaptureQueriesContext(connection) as empty:
            get("/admin/operations/")
        empty_count = len(empty)  # read now: the captured queries are a window on the connection's log
        started = time.perf_counter()
        make_month(rows=rows)
        lines = rows + 1 + rows // 10
        print(f"{rows:,} transcriptions and {lines:,} ledger lines inserted in {time.perf_counter() - started:.1f} s")
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE TABLE transcriptions_transcription, wallet_transaction")
            cursor.fetchall()
        cache.clear()  # the empty database's days were cached as empty: a first view of this month
        began = time.perf_counter()
        with CaptureQueriesContext(connection) as full:
            page = get("/admin/operations/")
        first_view = (time.perf_counter() - began) * 1000
        queries = [(float(query["time"]) * 1000, query["sql"]) for query in full.captured_queries]
        assert "transcription_engine_unavailable" in page and 'aria-label="Transcription revenue' in page

        latencies: dict[str, list[float]] = {"/admin/": [], "/admin/operations/": []}
        for round_no in range(rounds):
            for path in latencies if round_no % 2 == 0 else reversed(latencies):
                began = time.perf_counter()
                get(path)
                latencies[path].append((time.perf_counter() - began) * 1000)
        index, dashboard = (statistics.median(values) for values in latencies.values())
        slowest = max(latencies["/admin/operations/"])

    print(f"queries: {empty_count} on an empty database, {len(queries)} over {rows:,} jobs")
    for milliseconds, sql in queries:
        print(f"  {milliseconds:7.1f} ms  {sql[:150]}")
    print(f"first view (nothing cached): {first_view:.1f} ms")
    print(f"median of {rounds}: dashboard {dashboard:.1f} ms (slowest {slowest:.1f} ms), admin index {index:.1f} ms")
    return [
        Row(
            "dashboard: queries, empty / 100k jobs",
            f"{empty_count} / {len(queries)}",
            target="equal",
            met=empty_count == len(queries),
        ),
        # Once per empty cache (a deploy with a new Redis): afterwards only today's lines and a day
        # that has just settled are summed.
        Row(f"dashboard over {rows:,} jobs: first view, nothing cached", f"{first_view:.1f} ms"),
        Row(
            f"dashboard over {rows:,} jobs: latency (settled days cached)",
            f"{dashboard:.1f} ms",
            f"admin index: {index:.1f} ms",
            dashboard / index,
            f"<= {TARGET_MS} ms",
            dashboard <= TARGET_MS,
        ),
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    rows = run(rows=args.rows, rounds=args.rounds)
    print_rows("Operations dashboard (in-process, production settings, MariaDB)", rows)
