"""How fast can many clients pay for transcriptions from one wallet, against what MariaDB allows?

N clients (processes, each with its own connection) hammer ONE wallet, the worst case: every
operation waits for the same row lock.

- service: each client pays for transcriptions with `wallet_reserve` then `wallet_capture`;
  each of those is one operation (one locked transaction).
- floor: the least a ledger can do per operation on the same connections, in raw SQL: one
  transaction with a conditional `UPDATE wallet ... WHERE balance - held >= amount` and one
  `INSERT` of a ledger line.

Rounds alternate which side goes first. At the end, the wallet must equal its start minus every
capture and every floor debit (no lost update), and `wallet_audit` must find nothing.

    DATABASE_URL=mysql://root@127.0.0.1:3306/NAME .venv/bin/python bench/wallet.py [--clients 16]

It works in a throwaway database `NAME_wallet`, created and dropped by the run.
"""

import argparse
import multiprocessing
import os
import sys
import time
import traceback
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

import django

django.setup()

from django.db import connection  # noqa: E402

from accounts.services import user_create  # noqa: E402
from bench.common import Row, print_rows, throwaway_database  # noqa: E402
from transcriptions.models import Transcription, wallet_subject  # noqa: E402
from wallet.audit import wallet_audit  # noqa: E402
from wallet.models import Hold, Transaction, Wallet  # noqa: E402
from wallet.services import wallet_adjust, wallet_capture, wallet_credit, wallet_reserve  # noqa: E402

MINUTES = Decimal("1.00")  # costs ₹1.00 at the default rate, with no demo minutes left
FLOOR_AMOUNT = Decimal("1.00")
OPENING_BALANCE = Decimal("10000000.00")

FLOOR_UPDATE = """
    UPDATE wallet_wallet SET balance = balance - %s, updated_at = UTC_TIMESTAMP(6)
    WHERE id = %s AND balance - held >= %s
"""
FLOOR_INSERT = """
    INSERT INTO wallet_transaction (wallet_id, type, amount, demo_minutes, minutes,
        balance_before, balance_after, demo_minutes_before, demo_minutes_after, reference, description, created_at)
    SELECT id, 'adjustment', -%s, 0, 0, balance + %s, balance, demo_minutes_remaining, demo_minutes_remaining,
        %s, 'benchmark floor', UTC_TIMESTAMP(6)
    FROM wallet_wallet WHERE id = %s
"""


class Clients:
    """N client processes (like web or worker processes) that live for the whole run, so every
    phase uses the same N connections. Processes, not threads: the GIL would make the clients
    take turns in Python and measure the interpreter instead of the locking."""

    def __init__(self, count: int) -> None:
        connection.close()  # each process opens its own connection
        context = multiprocessing.get_context("fork")
        self.start = context.Barrier(count + 1)
        self.pipes = []
        for index in range(count):
            ours, theirs = context.Pipe()
            context.Process(target=_client, args=(index, theirs, self.start), daemon=True).start()
            self.pipes.append(ours)

    def run(self, task: str, args: list[tuple]) -> tuple[float, list[int]]:
        """Run `task` on every client at once (client i gets `args[i]`): seconds and results."""
        for pipe, client_args in zip(self.pipes, args, strict=True):
            pipe.send((task, client_args))
        self.start.wait(timeout=300)  # every client has prepared its work (untimed) and waits here
        began = time.perf_counter()
        results = [pipe.recv() for pipe in self.pipes]
        seconds = time.perf_counter() - began
        failures = [result for result in results if isinstance(result, str)]
        if failures:
            raise RuntimeError(f"{len(failures)} clients failed; the first: {failures[0]}")
        return seconds, results

    def connection_ids(self) -> set[int]:
        return set(self.run("connection_id", [()] * len(self.pipes))[1])

    def close(self) -> None:
        self.run("stop", [()] * len(self.pipes))


def _client(index: int, pipe, start) -> None:
    while True:
        task, args = pipe.recv()
        try:
            work = TASKS[task](index, *args)  # prepare untimed, then start with the others
            start.wait(timeout=300)
            result = work()
        except Exception:
            result = traceback.format_exc()  # the parent reports it and stops the run
        pipe.send(result)
        if task == "stop":
            return


def connection_id_task(index: int) -> Callable[[], int]:
    def work() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT CONNECTION_ID()")
            return cursor.fetchone()[0]

    return work


def floor_task(index: int, wallet_id: int, ops: int, tag: str) -> Callable[[], int]:
    def work() -> int:
        done = 0
        with connection.cursor() as cursor:
            for n in range(ops):
                cursor.execute("START TRANSACTION")
                cursor.execute(FLOOR_UPDATE, [FLOOR_AMOUNT, wallet_id, FLOOR_AMOUNT])
                if cursor.rowcount == 1:
                    cursor.execute(FLOOR_INSERT, [FLOOR_AMOUNT, FLOOR_AMOUNT, f"floor:{tag}:{index}:{n}", wallet_id])
                    done += 1
                cursor.execute("COMMIT")
        return done

    return work


def service_task(index: int, transcription_ids: list) -> Callable[[], int]:
    transcriptions = list(Transcription.objects.select_related("user").filter(pk__in=transcription_ids))

    def work() -> int:
        for transcription in transcriptions:
            subject = wallet_subject(transcription.pk)
            wallet_reserve(user=transcription.user, subject=subject, minutes=MINUTES)
            wallet_capture(subject=subject)
        return 2 * len(transcriptions)

    return work


def stop_task(index: int) -> Callable[[], int]:
    def work() -> int:
        connection.close()
        return 0

    return work


TASKS = {"connection_id": connection_id_task, "floor": floor_task, "service": service_task, "stop": stop_task}


def run(*, clients: int = 16, ops: int = 200, rounds: int = 3) -> list[Row]:
    """`ops` operations per client per phase (rounded down to even)."""
    if connection.vendor != "mysql":
        raise SystemExit("This measures row locking on MariaDB/MySQL: set DATABASE_URL=mysql://...")
    with throwaway_database("wallet"):
        return measure(clients=clients, ops=ops // 2 * 2, rounds=rounds)


def measure(*, clients: int, ops: int, rounds: int) -> list[Row]:
    user = user_create(email="bench@example.com")
    wallet = Wallet.objects.get(user=user)
    wallet_credit(user=user, amount=OPENING_BALANCE, payment_id="bench-opening")
    wallet_adjust(wallet_id=wallet.pk, demo_minutes=-wallet.demo_minutes_remaining, reason="bench: money only")
    Transcription.objects.bulk_create(
        Transcription(user=user, audio_filename="bench.wav", audio_duration_seconds=60, billable_minutes=MINUTES)
        for _ in range(rounds * clients * ops // 2)
    )
    pending = list(Transcription.objects.filter(user=user).values_list("pk", flat=True))

    with connection.cursor() as cursor:
        cursor.execute("SELECT VERSION()")
        version = cursor.fetchone()[0]
    print(f"{version}: {clients} clients on one wallet, {rounds} rounds of {ops} operations per client and side")
    print(f"{'round':>5} {'floor ops/s':>12} {'service ops/s':>14} {'ratio':>6}")

    pool = Clients(clients)
    ids_before = pool.connection_ids()
    totals = {"floor": [0.0, 0], "service": [0.0, 0]}
    for round_no in range(rounds):
        sides = {
            "floor": [(wallet.pk, ops, str(round_no))] * clients,
            "service": [([pending.pop() for _ in range(ops // 2)],) for _ in range(clients)],
        }
        rates = {}
        for side in sorted(sides, reverse=round_no % 2 == 1):
            seconds, done = pool.run(side, sides[side])
            totals[side][0] += seconds
            totals[side][1] += sum(done)
            rates[side] = sum(done) / seconds
        ratio = rates["service"] / rates["floor"]
        print(f"{round_no + 1:>5} {rates['floor']:>12.0f} {rates['service']:>14.0f} {ratio:>6.2f}")
    same_connections = pool.connection_ids() == ids_before
    pool.close()

    floor_rate = totals["floor"][1] / totals["floor"][0]
    service_rate = totals["service"][1] / totals["service"][0]
    ratio = service_rate / floor_rate
    print(f"{'all':>5} {floor_rate:>12.0f} {service_rate:>14.0f} {ratio:>6.2f}   (target: ratio >= 0.5)")
    print(f"service: {service_rate / 2:.0f} transcriptions paid per second (a reserve and a capture each)")

    wallet.refresh_from_db()
    captures = Hold.objects.filter(wallet=wallet, status=Hold.Status.CAPTURED).count()
    floor_lines = Transaction.objects.filter(wallet=wallet, reference__startswith="floor:").count()
    expected = OPENING_BALANCE - captures * MINUTES - floor_lines * FLOOR_AMOUNT
    checks = {
        f"every floor operation applied ({floor_lines} of {totals['floor'][1]})": floor_lines == totals["floor"][1],
        f"every reservation captured ({captures} of {totals['service'][1] // 2})": captures
        == totals["service"][1] // 2,
        f"balance ₹{wallet.balance} is the opening balance minus every debit (₹{expected})": wallet.balance == expected,
        f"held ₹{wallet.held}": wallet.held == 0,
        "audit_ledger finds no mismatch": not wallet_audit(wallet_ids=[wallet.pk]).mismatches,
        f"both sides used the same {clients} connections": same_connections and len(ids_before) == clients,
    }
    for check, passed in checks.items():
        print(f"  {'ok  ' if passed else 'FAIL'} {check}")
    lost = abs(wallet.balance - expected) / MINUTES
    exact = all(checks.values())
    print(f"exactness: {'OK' if exact else 'FAILED'}, lost updates: {lost}")
    return [
        Row(
            f"wallet: {clients} processes paying from one wallet",
            f"{service_rate:,.0f} ops/s",
            f"raw SQL floor: {floor_rate:,.0f} ops/s",
            ratio,
            ">= 0.5",
            ratio >= 0.5,
        ),
        Row(
            "wallet: lost updates, ledger audit",
            f"{lost} lost, {'exact' if exact else 'NOT EXACT'}",
            target="0, exact",
            met=exact,
        ),
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--ops", type=int, default=200, help="operations per client per phase (even)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rows = run(clients=args.clients, ops=args.ops, rounds=args.rounds)
    print_rows("Wallet", rows)
    sys.exit(0 if rows[-1].met else 1)
