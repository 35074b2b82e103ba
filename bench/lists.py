"""List pages deep into a long history: `GET /api/transcriptions/` for one user with 100,000
transcriptions on MariaDB, in-process through the whole stack (production settings, Django's
test client).

Prints the queries each request makes (page 1 and page 500, 20 and 100 a page: the same count
means no N+1 and nothing that grows with the page), and the median latency of page 500 against
page 1 measured alternately in the same run (target: ratio <= 1.5). The last page is shown too:
an offset still walks the index that far.

    python -m bench.lists [--rows 100000] [--rounds 40]

Works in a throwaway database `<name>_lists` next to BENCH_DATABASE_URL's, dropped at the end.
"""

import argparse
import os
import statistics
import time

from bench.common import Row, copy_rows, print_rows, production_env, throwaway_database

PAGE_SIZE = 20
DEEP_PAGE = 500
TEXT = ("This is what was said in the meeting, more or less word for word. " * 15).strip()


def make_rows(*, user, rows: int) -> None:
    """`rows` transcriptions for `user`, one a minute back in time, 1 in 20 failed: one template row
    through the ORM, copied by one INSERT ... SELECT with new ids, names, dates and statuses."""
    from django.utils import timezone

    from transcriptions.models import Transcription

    now = timezone.now()
    template = Transcription.objects.create(
        user=user,
        audio_filename="meeting-0.mp3",
        audio_duration_seconds="600.000",
        status=Transcription.Status.COMPLETED,
        engine="openai",
        model="whisper-1",
        language="en",
        text=TEXT,
        segments=[{"start": 10.0 * i, "end": 10.0 * i + 9.5, "text": TEXT[:150]} for i in range(60)],
        progress=100,
        billable_minutes="10.00",
        charged_minutes="10.00",
        amount="10.00",
        started_at=now,
        completed_at=now,
    )
    copy_rows(
        Transcription,
        template.pk,
        rows=rows - 1,
        copied={
            "id": "REPLACE(UUID(), '-', '')",
            "audio_filename": "CONCAT('meeting-', n + 1, '.mp3')",
            "status": "IF(MOD(n + 1, 20) = 0, 'failed', t.status)",
            "created_at": "t.created_at - INTERVAL (n + 1) MINUTE",
            "updated_at": "t.created_at - INTERVAL (n + 1) MINUTE",
        },
    )


def run(*, rows: int = 100_000, rounds: int = 40) -> list[Row]:
    os.environ.update(production_env())
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.services import user_create, user_issue_tokens

    if connection.vendor != "mysql":
        raise SystemExit("This measures MySQL/MariaDB: set BENCH_DATABASE_URL=mysql://...")
    with throwaway_database("lists"):
        user = user_create(email="bench-lists@example.com")
        started = time.perf_counter()
        make_rows(user=user, rows=rows)
        print(f"{rows:,} transcriptions for one user inserted in {time.perf_counter() - started:.1f} s")
        client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {user_issue_tokens(user=user)['access']}")
        last_page = -(-rows // PAGE_SIZE)

        def get(query: str) -> dict:
            response = client.get(f"/api/transcriptions/?{query}")
            assert response.status_code == 200, response.content
            return response.json()

        page = get(f"page={DEEP_PAGE}")  # also warms the cached user, so every count below is the same
        assert page["count"] == rows and len(page["results"]) == PAGE_SIZE, page["count"]
        queries = {}
        for label, query in {
            "page 1": "page=1",
            f"page {DEEP_PAGE}": f"page={DEEP_PAGE}",
            "page 1, 100 a page": "page=1&page_size=100",
            f"page {DEEP_PAGE // 5}, 100 a page": f"page={DEEP_PAGE // 5}&page_size=100",
        }.items():
            with CaptureQueriesContext(connection) as captured:
                get(query)
            queries[label] = len(captured)

        latencies = {1: [], DEEP_PAGE: [], last_page: []}
        for round_no in range(rounds):
            # Alternate which page goes first, so a noisy moment skews both alike.
            for number in latencies if round_no % 2 == 0 else reversed(latencies):
                began = time.perf_counter()
                get(f"page={number}")
                latencies[number].append((time.perf_counter() - began) * 1000)
        first, deep, last = (statistics.median(latencies[number]) for number in latencies)

    print("queries a request: " + ", ".join(f"{label}: {count}" for label, count in queries.items()))
    print(
        f"median of {rounds}: page 1 {first:.1f} ms, page {DEEP_PAGE} {deep:.1f} ms, "
        f"page {last_page} (the last) {last:.1f} ms"
    )
    ratio = deep / first
    return [
        Row(
            "list: queries a request, pages 1 / 500 and 20 / 100 a page",
            " / ".join(str(count) for count in queries.values()),
            target="all equal",
            met=len(set(queries.values())) == 1,
        ),
        Row(
            f"list of {rows:,} rows: page {DEEP_PAGE} latency",
            f"{deep:.1f} ms",
            f"page 1: {first:.1f} ms",
            ratio,
            "<= 1.5",
            ratio <= 1.5,
        ),
        # Absolute too: a filter the index cannot answer (deleted transcripts, say) slows every
        # page alike, which the ratio alone would not show.
        Row(f"list of {rows:,} rows: page 1 latency", f"{first:.1f} ms", target="<= 100 ms", met=first <= 100),
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    print_rows("Transcription list (in-process, production settings, MariaDB)", run(rows=args.rows, rounds=args.rounds))
