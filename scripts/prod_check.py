"""Boot the production settings for real and drive one user's whole flow over HTTP.

MariaDB and Redis on this machine, gunicorn with two workers, a Celery worker, and a local fake
of OpenAI's transcription API. Steps: the offline engine on human speech in a process with no
network at all; issue a token, upload, transcribe on the worker, poll, download, export CSV, check
the wallet, readiness, metrics and the ledger audit; then the SPA's journey through a client
generated from the live schema (scripts/client_journey.py); then stop everything.

    python scripts/prod_check.py        (exit status 0 when every step passed)
"""

import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import PYTHON, manage, production_env, start_gunicorn, stop  # noqa: E402
from scripts.client_journey import generate_client, run_journey  # noqa: E402
from tests.payments.fakes import KEY_ID, KEY_SECRET, FakeRazorpay  # noqa: E402
from tests.speech import joined, transcribe_without_network, word_error_rate  # noqa: E402
from tests.transcriptions.fake_openai import FakeOpenAI  # noqa: E402

DATABASE = "prod_check"
METRICS_TOKEN = "prod-check-metrics-" + "m" * 32


def step(name: str, ok: bool, detail: str = "") -> None:
    print(f"{'ok  ' if ok else 'FAIL'} {name}{f': {detail}' if detail else ''}", flush=True)
    if not ok:
        raise SystemExit(1)


def fresh_services(env: dict[str, str]) -> None:
    import MySQLdb
    import redis

    cursor = MySQLdb.connect(host="127.0.0.1", user="root").cursor()
    cursor.execute(f"DROP DATABASE IF EXISTS `{DATABASE}`")
    cursor.execute(f"CREATE DATABASE `{DATABASE}` CHARACTER SET utf8mb4")
    for url in (env["REDIS_URL"], env["CELERY_BROKER_URL"]):
        redis.Redis.from_url(url).flushdb()


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [PYTHON, "-m", "celery", "-A", "config", "worker", "--loglevel=INFO", "--concurrency=2"],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )


def sine_mp3(path: Path, seconds: int) -> Path:
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"sine=frequency=440:duration={seconds}",
            "-ac",
            "1",
            "-b:a",
            "64k",
            str(path),
        ],
        check=True,
    )
    return path


def run(workdir: Path) -> None:
    razorpay = FakeRazorpay()
    with FakeOpenAI() as openai:
        env = production_env(
            DATABASE_URL=f"mysql://root@127.0.0.1:3306/{DATABASE}",
            REDIS_URL="redis://127.0.0.1:6379/8",
            CELERY_BROKER_URL="redis://127.0.0.1:6379/9",
            MEDIA_ROOT=str(workdir / "media"),
            STATIC_ROOT=str(workdir / "static"),
            OPENAI_API_KEY="sk-prod-check",
            OPENAI_BASE_URL=openai.base_url,
            TRANSCRIPTION_ENGINE="openai",
            PROMETHEUS_MULTIPROC_DIR=str(workdir / "metrics"),
            METRICS_TOKEN=METRICS_TOKEN,
            DJANGO_SETTINGS_MODULE="config.settings.production",
            LOG_LEVEL="INFO",
            RAZORPAY_KEY_ID=KEY_ID,
            RAZORPAY_KEY_SECRET=KEY_SECRET,
            RAZORPAY_BASE_URL=razorpay.base_url,
            MAX_UPLOAD_MB="1",  # the journey's 413
            THROTTLE_RATES="user=100000000/min,anon=100000000/min,login=3/min",  # the journey's 429
        )
        fresh_services(env)
        manage(env, "migrate", "--noinput", "-v", "0")
        manage(env, "collectstatic", "--noinput", "-v", "0")
        step("migrate and collectstatic on MariaDB", True)
        deploy = subprocess.run(
            [PYTHON, "manage.py", "check", "--deploy", "--database", "default", "--fail-level", "WARNING"],
            cwd=ROOT,
            env={**env, "SECURE_SSL_REDIRECT": "true"},
            capture_output=True,
            text=True,
        )
        step("check --deploy", deploy.returncode == 0, deploy.stdout.strip().splitlines()[-1] if deploy.stdout else "")
        speech = joined(workdir / "librivox.wav")
        offline = transcribe_without_network(PYTHON, speech.path, env)
        wer = word_error_rate(speech.text, offline.stdout) if offline.returncode == 0 else 1.0
        step("offline engine from the pinned wheels, no network", wer <= 0.05, f"WER {wer:.1%} {offline.stderr[-500:]}")

        token = manage(env, "issue_token", "prod-check@example.com", "--create", "--access-only")
        server, base = start_gunicorn(env)
        worker = start_worker(env, workdir / "worker.log")
        try:
            drive(base, token, workdir)
            generate_client(base, workdir)
            step("client generated from the live schema (openapi-python-client)", True)
            run_journey(base, token, sine_mp3(workdir / "journey.mp3", 5), step)
        except BaseException:
            print("--- worker log ---\n" + (workdir / "worker.log").read_text()[-3000:])
            raise
        finally:
            stop(worker)
            stop(server)
        audit = subprocess.run([PYTHON, "manage.py", "audit_ledger"], cwd=ROOT, env=env, capture_output=True, text=True)
        step("audit_ledger", audit.returncode == 0, audit.stdout.strip().splitlines()[-1] if audit.stdout else "")
        models = [request.field("model") for request in openai.requests]
        paths = [request.path.rsplit("/", 1)[-1] for request in openai.requests]
        step(  # the flow's job and the journey's three
            "OpenAI fake called by the worker",
            models == ["whisper-1", "whisper-1", "gpt-4o-transcribe-diarize", "whisper-1"]
            and paths == ["transcriptions", "transcriptions", "transcriptions", "translations"],
            ", ".join(f"{model} ({path})" for model, path in zip(models, paths, strict=True)),
        )
    razorpay.close()


def drive(base: str, token: str, workdir: Path) -> None:
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {token}"

    ready = requests.get(f"{base}/ready/", timeout=10)
    step("/ready/ (database, cache, broker)", ready.status_code == 200, str(ready.json()["checks"]))

    with sine_mp3(workdir / "meeting.mp3", 20).open("rb") as audio:
        upload = api.post(f"{base}/api/audio/", files={"file": ("meeting.mp3", audio)}, timeout=30)
    step("upload", upload.status_code == 201, f"{upload.status_code} {upload.json().get('billable_minutes')} minutes")

    job = api.post(f"{base}/api/transcriptions/", json={"audio_file": upload.json()["id"]}, timeout=30)
    step("transcription queued for the worker", job.status_code == 202, f"{job.status_code} {job.json().get('status')}")

    deadline = time.monotonic() + 60
    while (state := api.get(f"{base}/api/transcriptions/{job.json()['id']}/", timeout=10).json())["status"] in (
        "pending",
        "processing",
    ) and time.monotonic() < deadline:
        time.sleep(0.5)
    step("worker completed it", state["status"] == "completed", f"{state['status']} {state['text']!r}")

    text = api.get(f"{base}/api/transcriptions/{state['id']}/download/", timeout=10)
    srt = api.get(f"{base}/api/transcriptions/{state['id']}/download/?format=srt", timeout=10)
    step("download txt and srt", text.status_code == srt.status_code == 200 and state["text"] in text.text)

    csv = api.get(f"{base}/api/transcriptions/export_csv/", timeout=10)
    step("CSV export", csv.status_code == 200 and state["id"] in csv.text, csv.headers.get("Content-Type", ""))

    wallet = api.get(f"{base}/api/wallet/details/", timeout=10).json()
    expected = Decimal("10") - Decimal(upload.json()["billable_minutes"])
    step(
        "demo minutes charged", Decimal(wallet["demo_minutes_remaining"]) == expected, wallet["demo_minutes_remaining"]
    )

    admin_css = requests.get(f"{base}/static/admin/css/base.css", timeout=10)
    step("admin static files (whitenoise)", admin_css.status_code == 200)

    without_token = requests.get(f"{base}/metrics", timeout=10)
    step("metrics refused without their token", without_token.status_code == 404, str(without_token.status_code))
    metrics = requests.get(f"{base}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=10).text
    step(
        "metrics from web and worker processes, with their token",
        'transcriptions_total{engine="openai",status="completed"} 1.0' in metrics
        and "django_http_requests_total_by_method_total" in metrics,
    )


if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="prod-check-") as tmp:
        run(Path(tmp))
    print("production check passed")
