"""A soak with faults: production settings, many users, and every part of the stack failing in turn.

gunicorn (2 workers), a Celery worker (2 processes) and beat, MariaDB and Redis reached through
proxies that can be cut, and local fakes of OpenAI and Razorpay. 30 users run 24 journeys at once
(top up and verify, with Razorpay's webhook racing the verify; upload; transcribe; poll; download)
while, every minute: OpenAI answers 500s, then hangs past its timeout; a worker pool process and
then the whole worker are SIGKILLed (and replaced); MariaDB and Redis each drop every connection
for 5 s; the worker is told to stop (SIGTERM) after its successor started, as a rolling deploy does.
Jobs' time limits and the liveness settings are the production defaults, so only heartbeats can
bring a dead worker's job back in time (only the queue timeout is shortened: QUEUE_TIMEOUT_SECONDS).
Then Razorpay's unacknowledged webhooks are delivered again (as Razorpay does), it waits at most
the bound (2 minutes) plus one reaper interval after the last fault and checks: no job left pending
or processing, no money held, every payment credited exactly once, no 5xx but the documented 503s,
and `audit_ledger` clean.

    python scripts/soak.py [--minutes 5] [--users 30] [--journeys 24]     (exit status 0 when every check passed)

Run the service from a venv holding requirements.txt alone with SERVER_PYTHON (`make soak` does).
"""

import argparse
import json
import random
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import PYTHON, ffmpeg, manage, production_env, start_gunicorn, stop  # noqa: E402
from scripts.harness import fresh_services, p95, run_in_workdir, verdict  # noqa: E402
from tests.payments.fakes import KEY_ID, KEY_SECRET, WEBHOOK_SECRET, FakeRazorpay, checkout_signature, sign  # noqa: E402
from tests.production.faults import CuttableProxy, child_pids, kill_hard, kill_with_children  # noqa: E402
from tests.transcriptions.fake_openai import FakeOpenAI, Reply, error, transcript  # noqa: E402

DATABASE = "soak"
REDIS_DB, BROKER_DB = 12, 13
FAULT_SECONDS = 5.0
# The product's promise: a dead worker's job runs again within 2 minutes (heartbeat timeout 60 s +
# reaper interval 30 s, the defaults, plus the run itself).
BOUND_SECONDS = 120
REAPER_INTERVAL_SECONDS = 30
# A job still `pending` whose message Redis lost (a worker held it for a retry's countdown when the
# broker was cut, and could not hand it back) waits for the queue timeout: 30 minutes by default,
# a minute here, so the reaper's work on it shows within the run.
QUEUE_TIMEOUT_SECONDS = 60
# Every 503 the API documents; any other 5xx fails the soak.
DOCUMENTED_503 = {
    "service_unavailable",
    "transcription_engine_unavailable",
    "transcription_queue_unavailable",
    "payment_provider_unavailable",
}
TERMINAL = ("completed", "failed")
# A user waits this long for a job: the bound, one reaper interval, and room for a busy machine.
POLL_SECONDS = 240


# --- Fakes of the internet ------------------------------------------------------------------


class FaultyOpenAI(FakeOpenAI):
    """The OpenAI fake, healthy, erroring or hanging as the fault schedule says."""

    def __init__(self) -> None:
        super().__init__(respond=self._answer, latency=0.3)
        self.mode = "healthy"

    def _answer(self, request) -> Reply:
        if self.mode == "errors":
            return error(500, "The server had an error while processing your request.")
        if self.mode == "hangs":
            return Reply(status=200, body=transcript(request).body, delay=60)
        return transcript(request)


# --- What the users see ---------------------------------------------------------------------


@dataclass
class Observed:
    lock: threading.Lock = field(default_factory=threading.Lock)
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: Counter = field(default_factory=Counter)
    undocumented: list[str] = field(default_factory=list)
    jobs: set[str] = field(default_factory=set)
    payments: set[str] = field(default_factory=set)
    undelivered: list[tuple[bytes, str]] = field(default_factory=list)
    unfinished_polls: int = 0

    def record(self, name: str, response: requests.Response | None, seconds: float, error: str = "") -> None:
        with self.lock:
            if response is None:
                self.statuses["no answer"] += 1
                self.undocumented.append(f"{name}: no answer ({error})")
                return
            self.latencies[name].append(seconds)
            self.statuses[response.status_code] += 1
            if response.status_code >= 500:
                code = _code(response)
                if response.status_code != 503 or code not in DOCUMENTED_503:
                    self.undocumented.append(f"{name}: {response.status_code} {code or response.text[:200]}")


def _code(response: requests.Response) -> str:
    try:
        return response.json().get("code", "")
    except ValueError:
        return ""


class Journey:
    def __init__(self, base: str, token: str, clips: list[Path], observed: Observed) -> None:
        self.base = base
        self.observed = observed
        self.clips = clips
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {token}"

    def call(self, name: str, method: str, path: str, **kwargs) -> requests.Response | None:
        started = time.perf_counter()
        try:
            response = self.http.request(method, f"{self.base}{path}", timeout=30, **kwargs)
        except requests.RequestException as exc:
            self.observed.record(name, None, 0, repr(exc))
            return None
        self.observed.record(name, response, time.perf_counter() - started)
        return response

    def run(self) -> None:
        self.call("wallet", "GET", "/api/wallet/details/")
        self.top_up()
        clip = random.choice(self.clips)  # noqa: S311 (load, not security)
        with clip.open("rb") as file:
            upload = self.call("upload", "POST", "/api/audio/", files={"file": (clip.name, file)})
        if upload is None or upload.status_code != 201:
            return
        key = uuid.uuid4().hex
        body = {"audio_file": upload.json()["id"]}
        job = self.call("transcribe", "POST", "/api/transcriptions/", json=body, headers={"Idempotency-Key": key})
        if job is not None and job.status_code >= 500:  # as a client would: once more, same key
            time.sleep(1)
            job = self.call("transcribe", "POST", "/api/transcriptions/", json=body, headers={"Idempotency-Key": key})
        if job is None or job.status_code not in (201, 202):
            return
        job_id = job.json()["id"]
        with self.observed.lock:
            self.observed.jobs.add(job_id)
        self.poll(job_id)

    def top_up(self) -> None:
        order = self.call("create_order", "POST", "/api/wallet/create_order/", json={"amount": "20.00"})
        if order is None or order.status_code != 201:
            return
        order_id, payment_id = order.json()["order_id"], f"pay_{uuid.uuid4().hex[:14]}"
        with self.observed.lock:
            self.observed.payments.add(payment_id)
        event = {
            "entity": "event",
            "event": "payment.captured",
            "contains": ["payment"],
            "payload": {
                "payment": {
                    "entity": {
                        "id": payment_id,
                        "entity": "payment",
                        "amount": order.json()["amount_paise"],
                        "currency": "INR",
                        "status": "captured",
                        "order_id": order_id,
                        "method": "upi",
                    }
                }
            },
        }
        webhook = threading.Thread(  # Razorpay's webhook races the SPA's verify
            target=self.deliver, args=(json.dumps(event).encode(), uuid.uuid4().hex)
        )
        webhook.start()
        self.call(
            "verify_payment",
            "POST",
            "/api/wallet/verify_payment/",
            json={
                "razorpay_order_id": order_id,
                "razorpay_payment_id": payment_id,
                "razorpay_signature": checkout_signature(order_id, payment_id),
            },
        )
        webhook.join()

    def deliver(self, raw: bytes, event_id: str) -> bool:
        """One delivery of a webhook; one that is not acknowledged is kept for redelivery, as Razorpay does."""
        headers = {
            "Content-Type": "application/json",
            "X-Razorpay-Signature": sign(raw, WEBHOOK_SECRET),
            "X-Razorpay-Event-Id": event_id,
            "Authorization": None,  # Razorpay signs; it has no user's token
        }
        response = self.call("webhook", "POST", "/api/payments/webhook/", data=raw, headers=headers)
        acknowledged = response is not None and response.status_code == 200
        if not acknowledged:
            with self.observed.lock:
                self.observed.undelivered.append((raw, event_id))
        return acknowledged

    def poll(self, job_id: str) -> None:
        deadline = time.monotonic() + POLL_SECONDS
        while time.monotonic() < deadline:
            state = self.call("poll", "GET", f"/api/transcriptions/{job_id}/")
            if state is not None and state.status_code == 200 and state.json()["status"] in TERMINAL:
                if state.json()["status"] == "completed":
                    self.call("download", "GET", f"/api/transcriptions/{job_id}/download/")
                    self.call("download", "GET", f"/api/transcriptions/{job_id}/download/?format=srt")
                return
            time.sleep(0.5)
        with self.observed.lock:
            self.observed.unfinished_polls += 1


# --- The run --------------------------------------------------------------------------------


class Worker:
    """A Celery worker under a supervisor, as production runs one (systemd `Restart=always`, an
    orchestrator): when the worker exits, it is started again. A worker can exit by itself after the
    broker drops its connections (kombu's Redis transport, seen here: "Unrecoverable error:
    AttributeError ... 'hostname'"); no job may be lost when it does."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log = env, log
        self.lock = threading.Lock()
        self.restarts = 0  # by the supervisor, after the worker exited on its own
        self.stopping = False
        self.process = self._start()
        threading.Thread(target=self._supervise, daemon=True).start()

    def _start(self) -> subprocess.Popen:
        command = [PYTHON, "-m", "celery", "-A", "config", "worker", "--loglevel=INFO", "--concurrency=2"]
        with self.log.open("a") as out:
            return subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT)

    def _supervise(self) -> None:
        while not self.stopping:
            time.sleep(1)
            with self.lock:
                if not self.stopping and self.process.poll() is not None:
                    self.restarts += 1
                    self.process = self._start()

    def kill_a_child(self) -> None:
        kill_hard(child_pids(self.process.pid)[:1])

    def kill_and_replace(self) -> None:
        with self.lock:
            kill_with_children(self.process)
            time.sleep(2)
            self.process = self._start()

    def stop_and_replace(self) -> None:
        """A rolling deploy: the successor starts, then the worker is told to stop (SIGTERM) and
        hands its running jobs back after its soft shutdown timeout."""
        with self.lock:
            stopping, self.process = self.process, self._start()
            stopping.terminate()
        threading.Thread(target=stopping.wait, daemon=True).start()  # reaped when it exits; faults go on

    def stop(self) -> None:
        with self.lock:
            self.stopping = True
        stop(self.process)


def faults(
    stop_at: float, openai: FaultyOpenAI, worker: Worker, db: CuttableProxy, cache: CuttableProxy, kills: list[float]
) -> list[str]:
    """Every minute, each fault once; returns what was injected and when, and adds to `kills` the
    wall-clock time of each fault to a worker."""
    injected: list[str] = []
    started = time.monotonic()

    def at(offset: float) -> bool:
        while time.monotonic() < started + offset:
            if time.monotonic() >= stop_at:
                return False
            time.sleep(0.1)
        return time.monotonic() < stop_at  # a fault that ran late must not push the next past the load

    def outage(name: str, cut, restore) -> None:
        injected.append(f"{time.monotonic() - started:5.1f}s {name}")
        cut()
        time.sleep(FAULT_SECONDS)
        restore()

    def openai_mode(mode: str) -> tuple:
        return (lambda: setattr(openai, "mode", mode), lambda: setattr(openai, "mode", "healthy"))

    schedule = [
        (6, "OpenAI answers 500", lambda: outage("OpenAI answers 500 for 5 s", *openai_mode("errors"))),
        (12, "whole worker SIGKILLed", worker.kill_and_replace),
        (20, "OpenAI hangs", lambda: outage("OpenAI hangs past its timeout for 5 s", *openai_mode("hangs"))),
        (28, "pool process SIGKILLed", worker.kill_a_child),
        (34, "MariaDB cut", lambda: outage("MariaDB drops every connection for 5 s", db.cut, db.restore)),
        (46, "Redis cut", lambda: outage("Redis drops every connection for 5 s", cache.cut, cache.restore)),
        (52, "worker SIGTERMed after its successor started", worker.stop_and_replace),
    ]
    minute = 0
    while True:
        for offset, name, inject in schedule:
            if not at(minute * 60 + offset):
                return injected
            if "SIG" in name:
                injected.append(f"{time.monotonic() - started:5.1f}s {name}")
                kills.append(time.time())
            inject()
        minute += 1


def make_clips(workdir: Path) -> list[Path]:
    clips = []
    for seconds in (3, 7, 12):
        path = workdir / f"clip-{seconds}s.mp3"
        ffmpeg("-f", "lavfi", "-i", f"sine=frequency=300:duration={seconds}", "-ac", "1", "-b:a", "32k", path)
        clips.append(path)
    return clips


def issue_tokens(env: dict[str, str], users: int) -> list[str]:
    code = (
        "import json; from accounts.services import user_create, user_issue_tokens; "
        f"print(json.dumps([user_issue_tokens(user=user_create(email=f'soak{{i}}@example.com'))['access'] "
        f"for i in range({users})]))"
    )
    return json.loads(manage(env, "shell", "-c", code).splitlines()[-1])


def final_state(env: dict[str, str]) -> dict:
    code = """
import json
from django.db.models import Count, Sum
from transcriptions.models import Transcription
from wallet.models import Hold, Transaction, Wallet
jobs = Transcription.objects.values("status", "error_code").annotate(n=Count("pk"))
totals = Wallet.objects.aggregate(held=Sum("held"), demo=Sum("demo_minutes_held"))
print(json.dumps({
    "jobs": [[row["status"], row["error_code"], row["n"]] for row in jobs],
    "lives": [
        [created.timestamp(), completed.timestamp()] for created, completed in
        Transcription.objects.filter(status="completed").values_list("created_at", "completed_at")
    ],
    "active": Transcription.objects.filter(status__in=["pending", "processing"]).count(),
    "requeued": Transcription.objects.filter(requeues__gt=0).count(),
    "held_for_finished": Hold.objects.filter(status="held", subject_type="transcription", subject_id__in=[
        str(pk) for pk in Transcription.objects.filter(status__in=["completed", "failed"]).values_list("pk", flat=True)
    ]).count(),
    "held": str(totals["held"] or 0), "demo_held": str(totals["demo"] or 0),
    "credited_payments": list(
        Transaction.objects.filter(type="credit", payment_id__isnull=False).values_list("payment_id", flat=True)
    ),
}))
"""
    return json.loads(manage(env, "shell", "-c", code).splitlines()[-1])


def run(args: argparse.Namespace, workdir: Path) -> bool:
    openai, razorpay = FaultyOpenAI().__enter__(), FakeRazorpay()
    db, cache = CuttableProxy("127.0.0.1", 3306), CuttableProxy("127.0.0.1", 6379)
    direct = production_env(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DATABASE_URL=f"mysql://root@127.0.0.1:3306/{DATABASE}",
        REDIS_URL=f"redis://127.0.0.1:6379/{REDIS_DB}",
        CELERY_BROKER_URL=f"redis://127.0.0.1:6379/{BROKER_DB}",
        MEDIA_ROOT=str(workdir / "media"),
        STATIC_ROOT=str(workdir / "static"),
        PROMETHEUS_MULTIPROC_DIR=str(workdir / "metrics"),
        OPENAI_API_KEY="sk-soak",
        OPENAI_BASE_URL=openai.base_url,
        TRANSCRIPTION_ENGINE="openai",
        OPENAI_TIMEOUT_SECONDS="3",
        OPENAI_MAX_RETRIES="1",
        RAZORPAY_KEY_ID=KEY_ID,
        RAZORPAY_KEY_SECRET=KEY_SECRET,
        RAZORPAY_WEBHOOK_SECRET=WEBHOOK_SECRET,
        RAZORPAY_BASE_URL=razorpay.base_url,
        TRANSCRIPTION_QUEUE_TIMEOUT_SECONDS=str(QUEUE_TIMEOUT_SECONDS),
    )
    proxied = {
        **direct,
        "DATABASE_URL": f"mysql://root@127.0.0.1:{db.port}/{DATABASE}",
        "REDIS_URL": f"redis://127.0.0.1:{cache.port}/{REDIS_DB}",
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{cache.port}/{BROKER_DB}",
    }
    fresh_services(direct, database=DATABASE, redis_dbs=(REDIS_DB, BROKER_DB))
    tokens = issue_tokens(direct, args.users)
    clips = make_clips(workdir)
    server, base = start_gunicorn(proxied)
    worker = Worker(proxied, workdir / "worker.log")
    beat_command = [PYTHON, "-m", "celery", "-A", "config", "beat", f"--schedule={workdir / 'beat'}"]
    beat = subprocess.Popen(
        beat_command, cwd=ROOT, env=proxied, stdout=(workdir / "beat.log").open("w"), stderr=subprocess.STDOUT
    )
    observed = Observed()
    started = time.monotonic()
    stop_at = started + args.minutes * 60
    injected: list[str] = []
    kills: list[float] = []
    try:
        fault_thread = threading.Thread(
            target=lambda: injected.extend(faults(stop_at, openai, worker, db, cache, kills))
        )
        fault_thread.start()

        def user_loop(index: int) -> None:
            while time.monotonic() < stop_at:
                Journey(base, tokens[index % len(tokens)], clips, observed).run()
                index += args.journeys

        journeys = [threading.Thread(target=user_loop, args=(i,)) for i in range(args.journeys)]
        for thread in journeys:
            thread.start()
        for thread in journeys:
            thread.join()
        fault_thread.join()
        load_seconds = time.monotonic() - started
        # Razorpay redelivers a webhook that was not acknowledged (for 24 h); here, once the faults are over.
        pending, observed.undelivered = observed.undelivered, []
        redelivery = Journey(base, tokens[0], clips, observed)
        redelivered = sum(redelivery.deliver(raw, event_id) for raw, event_id in pending)
        # Drain: a job in flight at the last fault has the bound and one reaper interval to finish.
        last_fault = kills[-1] if kills else time.time()
        drain_limit = time.monotonic() + max(0.0, last_fault + BOUND_SECONDS + REAPER_INTERVAL_SECONDS - time.time())
        while final_state(direct)["active"] and time.monotonic() < drain_limit:
            time.sleep(2)
        drained_seconds = time.monotonic() - started - load_seconds
    finally:
        stop(beat)
        worker.stop()
        stop(server)
        openai.__exit__(None, None, None)
        razorpay.close()
        db.close()
        cache.close()

    state = final_state(direct)
    audit = subprocess.run([PYTHON, "manage.py", "audit_ledger"], cwd=ROOT, env=direct, capture_output=True, text=True)
    credited = state["credited_payments"]
    requests_total = sum(observed.statuses.values())
    # For each fault to a worker, the jobs in flight then (requested before, completed after): the
    # longest any took to complete after it.
    recovery = max(
        (completed - kill for kill in kills for created, completed in state["lives"] if created < kill < completed),
        default=0.0,
    )

    print(f"\nsoak: {args.minutes} min of load, {args.users} users, {args.journeys} journeys at once")
    print(f"  requests          {requests_total}  by status: {dict(sorted(observed.statuses.items(), key=str))}")
    print(f"  jobs              {len(observed.jobs)} requested; by status and code: {state['jobs']}")
    print(f"  requeued by reaper {state['requeued']}; drained {drained_seconds:.0f} s after the load")
    print(f"  longest from a fault to a worker to the completion of a job in flight then: {recovery:.0f} s")
    print(f"  webhooks redelivered after the faults {redelivered} of {len(pending)}")
    print(f"  worker restarted by its supervisor after exiting on its own: {worker.restarts} time(s)")
    print(f"  faults injected   {len(injected)}")
    for line in injected:
        print(f"                    {line}")
    print(
        "  p95 latency       " + ", ".join(f"{name} {p95(v) * 1000:.0f} ms" for name, v in observed.latencies.items())
    )
    checks = {
        "stranded jobs (pending or processing)": (state["active"], 0),
        "holds still held for finished jobs": (state["held_for_finished"], 0),
        "money held": (Decimal(state["held"]), 0),
        "demo minutes held": (Decimal(state["demo_held"]), 0),
        "payments credited more than once": (len(credited) - len(set(credited)), 0),
        "paid payments not credited (after Razorpay's redelivery)": (len(observed.payments - set(credited)), 0),
        "5xx other than documented 503s": (len(observed.undocumented), 0),
        "polls that never saw the job finish": (observed.unfinished_polls, 0),
        f"job done over {BOUND_SECONDS} s after a fault to its worker": (recovery > BOUND_SECONDS, False),
        "audit_ledger exit status": (audit.returncode, 0),
    }
    passed = verdict(checks)
    for line in observed.undocumented[:20]:
        print(f"       {line}")
    if not passed:
        for log in ("worker.log", "beat.log"):
            lines = (workdir / log).read_text(errors="replace").splitlines()
            problems = [line for line in lines if " ERROR/" in line or " CRITICAL/" in line or "Error:" in line]
            print(f"--- {log}: {len(lines)} lines, the first problems ---", *problems[:40], sep="\n")
    return passed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=5)
    parser.add_argument("--users", type=int, default=30)
    parser.add_argument("--journeys", type=int, default=24)
    args = parser.parse_args()
    run_in_workdir("soak", lambda workdir: run(args, workdir))


if __name__ == "__main__":
    main()
