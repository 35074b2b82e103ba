"""Request overhead: an authenticated API read under gunicorn against a bare Django view in the
same server, with wrk on loopback; the same read signed in with an API key against a JWT; and the
queries each request makes (cold and cached).

    python -m bench.http_overhead [--seconds 3] [--rounds 5] [--connections 16]
"""

import argparse
import os
import re
import statistics
import subprocess

from bench.common import Row, ensure_database, manage, print_rows, production_env, start_gunicorn, stop

API_PATH = "/api/wallet/details/"


def wrk(url: str, *, seconds: int, connections: int, token: str | None = None) -> float:
    header = ["-H", f"Authorization: Bearer {token}"] if token else []
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", *header, url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    if re.search(r"Non-2xx or 3xx responses", out):
        raise RuntimeError(f"errors while loading {url}:\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def count_queries(env: dict[str, str], token: str) -> tuple[int, int]:
    """Queries of the first request (nothing cached) and of the next one, in this process."""
    os.environ.update(env)
    import django

    django.setup()
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    cache.clear()
    client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {token}")
    counts = []
    for _ in range(2):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(API_PATH).status_code == 200
        counts.append(len(queries))
    return counts[0], counts[1]


def run(*, seconds: int = 3, connections: int = 16, rounds: int = 5) -> list[Row]:
    env = production_env()
    ensure_database(env)
    token = manage(env, "issue_token", "bench-http@example.com", "--create", "--access-only")
    api_key = manage(env, "issue_api_key", "bench-http@example.com", "--name", "bench")
    cold, cached = count_queries(env, token)
    server, base = start_gunicorn(env)
    try:
        wrk(f"{base}/bench/bare/", seconds=2, connections=connections)  # warm up
        # Alternate short runs and compare medians, so a noisy moment skews both sides alike.
        bares, apis, keyed = [], [], []
        for _ in range(rounds):
            bares.append(wrk(f"{base}/bench/bare/", seconds=seconds, connections=connections))
            apis.append(wrk(f"{base}{API_PATH}", seconds=seconds, connections=connections, token=token))
            keyed.append(wrk(f"{base}{API_PATH}", seconds=seconds, connections=connections, token=api_key))
    finally:
        stop(server)
    bare, api, key = statistics.median(bares), statistics.median(apis), statistics.median(keyed)
    return [
        Row(
            f"GET {API_PATH} (JWT) throughput, median of {rounds}",
            f"{api:,.0f} req/s",
            f"bare JsonResponse view: {bare:,.0f} req/s",
            api / bare,
            ">= 0.5",
            api / bare >= 0.5,
        ),
        Row(
            f"GET {API_PATH} (API key) throughput, median of {rounds}",
            f"{key:,.0f} req/s",
            f"the same with a JWT: {api:,.0f} req/s",
            key / api,
            ">= 0.95",
            key / api >= 0.95,
        ),
        Row(
            f"GET {API_PATH}: queries a request, cold / cached",
            f"{cold} / {cached}",
            target="<= 3 / <= 1",
            met=cold <= 3 and cached <= 1,
        ),
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=3, help="length of each wrk run")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    print_rows(
        "Request overhead (gunicorn, 2 workers, wrk on loopback)",
        run(seconds=args.seconds, connections=args.connections, rounds=args.rounds),
    )
