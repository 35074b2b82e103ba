"""The embedded default as `make run` serves it (runserver, a SQLite file, jobs run inside the
request, nothing configured) taking several users at once, while other connections keep writing to
the jobs as a live session's progress or a worker's heartbeat does. Nothing may fail for want of a
lock: every request is answered, no 5xx, every job completed and the ledger clean.

It runs on its own SQLite file whatever DATABASE_URL this test run uses: the embedded default is
SQLite by definition."""

import json
import os
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from django.conf import settings

from tests.speech import joined
from tests.transcriptions.fake_openai import FakeOpenAI

USERS = 4
JOBS_PER_USER = 2  # 8 uploads, then 8 transcriptions, all at once
CLIP_SECONDS = 30
ENGINE_SECONDS = 1.0  # how long the fake OpenAI takes to answer: the jobs overlap in it
WRITERS = 2
# A live session writes its progress about once a second; these write twenty times as often, so that
# their transactions meet the requests' within a few seconds.
WRITE_EVERY_SECONDS = 0.05
STARTUP_SECONDS = 60


@pytest.fixture
def clip(tmp_path) -> Path:
    """Thirty seconds of read speech."""
    speech = joined(tmp_path / "speech.wav", repeat=2)
    path = tmp_path / "thirty-seconds.wav"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-i", str(speech.path), "-t", str(CLIP_SECONDS), str(path)],
        check=True,
    )
    return path


@pytest.fixture
def openai():
    with FakeOpenAI(latency=ENGINE_SECONDS) as fake:
        yield fake


@pytest.fixture
def embedded_env(tmp_path, openai) -> dict[str, str]:
    """`make run`'s environment with nothing configured (set empty, so a developer's `.env` cannot
    add a broker or a cache), its database and media under tmp_path, the engine the local fake."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "CELERY_BROKER_URL": "",
        "REDIS_URL": "",
        "AWS_STORAGE_BUCKET_NAME": "",
        "PROMETHEUS_MULTIPROC_DIR": "",
        "THROTTLE_RATES": "",
        "TRANSCRIPTION_ENGINE": "openai",
        "OPENAI_API_KEY": "sk-test",
        "OPENAI_BASE_URL": openai.base_url,
        "LOG_LEVEL": "WARNING",
    }


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(tmp_path: Path, name: str, env: dict[str, str], *args: str) -> subprocess.Popen:
    """`manage.py *args` in the background, its output in `name`.log."""
    with (tmp_path / f"{name}.log").open("w") as log:
        return subprocess.Popen(
            [sys.executable, "manage.py", *args], cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT
        )


def logs(tmp_path: Path) -> str:
    return "\n".join(f"--- {log.name}\n{log.read_text()[-2000:]}" for log in sorted(tmp_path.glob("*.log")))


def wait_until(ready, what: str, tmp_path: Path, *processes: subprocess.Popen) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while not ready():
        exited = [process.returncode for process in processes if process.poll() is not None]
        assert not exited, f"waiting for {what}, a process exited ({exited})\n{logs(tmp_path)}"
        assert time.monotonic() < deadline, f"{what}: not within {STARTUP_SECONDS} s\n{logs(tmp_path)}"
        time.sleep(0.1)


def is_up(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).status_code == 200
    except requests.ConnectionError:
        return False


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def prepare(*, users: int, tokens_file: str) -> None:
    """Run in the embedded default's environment: migrate as `make run` does, then make `users`
    users and write their access tokens, as JSON, to `tokens_file`."""
    from django.core.management import call_command

    from accounts.services import user_create, user_issue_tokens

    call_command("migrate", interactive=False, verbosity=0)
    tokens = [user_issue_tokens(user=user_create(email=f"user{i}@example.com"))["access"] for i in range(users)]
    Path(tokens_file).write_text(json.dumps(tokens))


def keep_writing_progress(*, ready_file: str, stop_file: str) -> None:
    """Run in the embedded default's environment: WRITERS threads, each on its own connection, each
    writing to the running jobs every WRITE_EVERY_SECONDS as a live session or a worker heartbeat
    does: one short transaction that reads the rows (`select_for_update`, as our services lock a row
    before changing it) and then writes them. `ready_file` appears once each has written; they stop
    when `stop_file` does. Prints, as JSON, how many writes each made and every error."""
    from django.db import DatabaseError, connection, transaction
    from django.utils import timezone

    from transcriptions.models import Transcription

    processing = Transcription.objects.filter(status=Transcription.Status.PROCESSING)
    writes = [0] * WRITERS
    errors: list[str] = []

    def write(index: int) -> None:
        try:
            while not os.path.exists(stop_file):
                try:
                    with transaction.atomic():
                        list(processing.select_for_update().values_list("pk", "progress"))
                        processing.update(updated_at=timezone.now())
                    writes[index] += 1
                except DatabaseError as exc:
                    errors.append(f"{type(exc).__name__}: {exc}")
                if all(writes) and not os.path.exists(ready_file):
                    Path(ready_file).touch()
                time.sleep(WRITE_EVERY_SECONDS)
        finally:
            connection.close()  # this thread's own

    threads = [threading.Thread(target=write, args=(index,)) for index in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(json.dumps({"writes": writes, "errors": errors}))


def upload_and_transcribe(base: str, token: str, clip: Path, together: threading.Barrier) -> list[tuple]:
    """What a user does: upload, then ask for the transcript. Each answer as (call, status, body)."""
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {token}"
    together.wait()
    with clip.open("rb") as file:
        upload = http.post(f"{base}/api/audio/", files={"file": (clip.name, file, "audio/wav")}, timeout=60)
    answers = [("upload", upload.status_code, _body(upload))]
    if upload.status_code == 201:
        job = http.post(f"{base}/api/transcriptions/", json={"audio_file": upload.json()["id"]}, timeout=60)
        answers.append(("transcribe", job.status_code, _body(job)))
    return answers


def _body(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text[:300]


def test_concurrent_uploads_and_transcriptions_beside_progress_writers_all_complete(
    tmp_path, embedded_env, openai, clip
):
    tokens_file, ready_file, stop_file = tmp_path / "tokens.json", tmp_path / "writing", tmp_path / "stop-writing"
    # Another process, as a worker or a live session is: it makes the database, then keeps writing.
    writers = start(
        tmp_path,
        "writers",
        embedded_env,
        "shell",
        "--no-imports",
        "-c",
        "from tests.test_embedded_default import keep_writing_progress, prepare; "
        f"prepare(users={USERS}, tokens_file={str(tokens_file)!r}); "
        f"keep_writing_progress(ready_file={str(ready_file)!r}, stop_file={str(stop_file)!r})",
    )
    server = None
    try:
        wait_until(ready_file.exists, "the database and the progress writers", tmp_path, writers)
        base = f"http://127.0.0.1:{free_port()}"
        server = start(tmp_path, "server", embedded_env, "runserver", "--noreload", base.removeprefix("http://"))
        wait_until(lambda: is_up(f"{base}/health/"), "the server", tmp_path, server, writers)

        tokens = json.loads(tokens_file.read_text())
        journeys = [token for token in tokens for _ in range(JOBS_PER_USER)]
        together = threading.Barrier(len(journeys))
        with ThreadPoolExecutor(max_workers=len(journeys)) as pool:
            answers = [
                answer
                for journey in pool.map(lambda token: upload_and_transcribe(base, token, clip, together), journeys)
                for answer in journey
            ]
        wallets = [
            requests.get(f"{base}/api/wallet/details/", headers={"Authorization": f"Bearer {token}"}, timeout=10).json()
            for token in tokens
        ]
        stop_file.touch()
        writers.wait(timeout=STARTUP_SECONDS)
    finally:
        stop_file.touch()
        stop(writers)
        if server is not None:
            stop(server)

    refused = [answer for answer in answers if answer[1] != 201]
    assert not refused, f"{len(refused)} of {len(answers)} requests refused: {refused}\n{logs(tmp_path)}"
    assert len(answers) == 2 * len(journeys)
    jobs = [body for call, _, body in answers if call == "transcribe"]
    assert [job["status"] for job in jobs] == ["completed"] * len(journeys)
    assert len(openai.requests) == len(journeys)
    assert openai.max_in_flight > 1  # the jobs did overlap
    written = json.loads((tmp_path / "writers.log").read_text().splitlines()[-1])
    assert written["errors"] == [], written
    assert all(written["writes"]), written
    assert [(wallet["held"], wallet["demo_minutes_held"]) for wallet in wallets] == [("0.00", "0.00")] * USERS
    audit = manage(embedded_env, "audit_ledger")
    assert audit.returncode == 0, audit.stdout + audit.stderr
    # Nothing went wrong, so nothing is worth a warning (Celery once named a broker it never used).
    warnings = [line for line in (tmp_path / "server.log").read_text().splitlines() if " WARNING " in line]
    assert not warnings, warnings
