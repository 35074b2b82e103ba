"""Every benchmark in turn against local MariaDB and Redis, then one table of their key figures,
each against its baseline measured in the same run.

    python -m bench [--only lists,wallet]        (or: make bench, or python -m bench.all)

Each benchmark runs in a process of its own, as it configures Django its own way, and works in
BENCH_DATABASE_URL's database (default mysql://root@127.0.0.1:3306/bench) or throwaway ones next
to it; the cache and the broker are BENCH_REDIS_URL and BENCH_BROKER_URL. `python -m bench.NAME`
runs one with its own options.
"""

import argparse
import importlib
import multiprocessing
import os
import sys
import time

from bench.common import MYSQL_URL, Row, ensure_database, production_env

# name: (title, keyword arguments of its run())
BENCHMARKS = {
    "http_overhead": ("Request overhead: gunicorn, 2 workers, wrk on loopback", {}),
    "openai_api": ("OpenAI-compatible API: /v1 against /api/, and waiting requests", {}),
    "lists": ("Transcription list, 100,000 rows, MariaDB", {}),
    "dashboard": ("Operations dashboard over 100,000 jobs in 30 days, MariaDB", {}),
    "wallet": ("Wallet: 16 processes paying from one wallet, MariaDB", {}),
    "upload": ("Uploads to a gunicorn worker", {}),
    "transcribe": ("Transcription engine and CSV export (MariaDB)", {}),
    "payments": ("Payment endpoints, in-process, MariaDB", {}),
    "offline_engine": ("Offline engine on human speech: Whisper beside PocketSphinx", {}),
    "redaction": ("Personal data redaction: an hour of transcript, and audio", {}),
    "live_sessions": ("Live sessions at real time: one uvicorn process, offline engine", {}),
}


def _run_one(name: str, kwargs: dict, sender) -> None:
    os.environ.pop("DJANGO_SETTINGS_MODULE", None)  # each benchmark picks its own settings
    os.environ["DATABASE_URL"] = MYSQL_URL
    sender.send(importlib.import_module(f"bench.{name}").run(**kwargs))


def run_isolated(name: str, kwargs: dict) -> list[Row] | None:
    """The benchmark's rows, from a fresh interpreter; None if it failed (its traceback is printed)."""
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_run_one, args=(name, kwargs, sender))
    process.start()
    sender.close()
    try:
        rows = receiver.recv()
    except EOFError:
        rows = None
    process.join()
    return rows


def markdown_table(rows: list[tuple[str, Row]]) -> str:
    header = ("benchmark", "figure", "value", "baseline (same run)", "ratio", "target", "met")
    lines = [
        (
            bench,
            row.figure,
            row.value,
            row.baseline,
            "" if row.ratio is None else f"{row.ratio:.2f}",
            row.target,
            {None: "", True: "yes", False: "**no**"}[row.met],
        )
        for bench, row in rows
    ]
    widths = [max(len(line[i]) for line in [header, *lines]) for i in range(len(header))]

    def format_line(cells) -> str:
        return "| " + " | ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)) + " |"

    separator = "|" + "|".join("-" * (width + 2) for width in widths) + "|"
    return "\n".join([format_line(header), separator, *map(format_line, lines)])


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", help="comma-separated names among: " + ", ".join(BENCHMARKS))
    args = parser.parse_args()
    names = args.only.split(",") if args.only else list(BENCHMARKS)
    unknown = set(names) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmark: {', '.join(sorted(unknown))}")

    ensure_database(production_env())
    started, load_before = time.monotonic(), os.getloadavg()
    summary: list[tuple[str, Row]] = []
    failed = []
    for name in names:
        title, kwargs = BENCHMARKS[name]
        print(f"\n== {title} (python -m bench.{name}) ==", flush=True)
        began = time.monotonic()
        rows = run_isolated(name, kwargs)
        print(f"-- {name}: {time.monotonic() - began:.0f} s", flush=True)
        if rows is None:
            failed.append(name)
        else:
            summary.extend((name, row) for row in rows)

    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    print(
        f"\nSummary: {len(names)} benchmarks in {time.monotonic() - started:.0f} s on {os.cpu_count()} cores; "
        f"load average before {load_before[0]:.2f}, after (1/5/15 min) {load}\n"
    )
    print(markdown_table(summary))
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
