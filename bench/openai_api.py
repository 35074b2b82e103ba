"""The OpenAI-compatible API's cost: `POST /v1/audio/transcriptions` on 25 s of read speech, against
what a client of `/api/` does for the same transcript (`POST /api/audio/`, `POST
/api/transcriptions/`, then `GET /api/transcriptions/{id}/` every 0.1 s until it completes). Both
on gunicorn (2 workers, production settings) with one Celery worker running the offline engine,
alternated round by round; medians. Target: /v1 takes at most 1.1 times as long.

Then what waiting costs a web process: one gunicorn worker (production's 8 threads) serving
`GET /api/wallet/details/` while 6 `/v1` requests wait for jobs that take 15 s each (the
OpenAI engine against a local fake that answers after 15 s, so the worker's CPUs stay free), with
GUNICORN_TIMEOUT at 10 s. Target: the waits outlive that timeout and every one answers 200, and
the reads take at most twice as long as with nobody waiting.

    python -m bench.openai_api [--rounds 5]
"""

import argparse
import statistics
import subprocess
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from bench.common import PYTHON, ROOT, Row, ensure_database, manage, print_rows, production_env, start_gunicorn, stop
from tests.speech import joined
from tests.transcriptions.fake_openai import FakeOpenAI

WAITING = 6  # of production's 8 threads a worker
JOB_SECONDS = 15.0


def start_worker(env: dict[str, str], *options: str) -> subprocess.Popen:
    return subprocess.Popen(
        [PYTHON, "-m", "celery", "-A", "config", "worker", "--loglevel=WARNING", *options], cwd=ROOT, env=env
    )


def through_v1(base: str, key: str, audio: Path) -> float:
    started = time.monotonic()
    with audio.open("rb") as file:
        response = requests.post(
            f"{base}/v1/audio/transcriptions",
            headers={"Authorization": f"Bearer {key}"},
            files={"file": (audio.name, file, "audio/wav")},
            data={"model": "whisper-1"},
            timeout=120,
        )
    response.raise_for_status()
    assert response.json()["text"], response.text
    return time.monotonic() - started


def through_api(base: str, key: str, audio: Path) -> float:
    headers = {"Authorization": f"Bearer {key}"}
    started = time.monotonic()
    with audio.open("rb") as file:
        upload = requests.post(
            f"{base}/api/audio/", headers=headers, files={"file": (audio.name, file, "audio/wav")}, timeout=120
        )
    upload.raise_for_status()
    created = requests.post(
        f"{base}/api/transcriptions/", headers=headers, json={"audio_file": upload.json()["id"]}, timeout=30
    )
    created.raise_for_status()
    job = created.json()
    while job["status"] in ("pending", "processing"):
        time.sleep(0.1)
        job = requests.get(f"{base}/api/transcriptions/{job['id']}/", headers=headers, timeout=30).json()
    assert job["status"] == "completed", job
    return time.monotonic() - started


def bench_env(scratch: Path, **extra: str) -> dict[str, str]:
    return production_env(
        MEDIA_ROOT=str(scratch / "media"),
        CELERY_QUEUE=f"bench-{uuid.uuid4().hex[:8]}",
        THROTTLE_RATES="user=100000000/min,anon=100000000/min,upload=100000000/min,transcribe=100000000/min",
        **extra,
    )


def new_key(env: dict[str, str]) -> str:
    """A key of a new user, whose 10 demo minutes pay for 24 jobs of 25 s."""
    return manage(env, "issue_api_key", f"bench-v1-{uuid.uuid4().hex[:8]}@example.com", "--create", "--name", "bench")


def overhead(scratch: Path, audio: Path, rounds: int) -> Row:
    env = bench_env(scratch, TRANSCRIPTION_ENGINE="local", OPENAI_API_KEY="")
    ensure_database(env)
    key = new_key(env)
    worker = start_worker(env, "--concurrency=1")
    server, base = start_gunicorn(env)
    try:
        through_v1(base, key, audio)  # the worker loads the model
        through_api(base, key, audio)
        v1s, apis = [], []
        for _ in range(rounds):
            v1s.append(through_v1(base, key, audio))
            apis.append(through_api(base, key, audio))
    finally:
        stop(server)
        stop(worker)
    v1, api = statistics.median(v1s), statistics.median(apis)
    return Row(
        f"/v1/audio/transcriptions, 25 s of speech, offline engine, median of {rounds}",
        f"{v1:.2f} s",
        f"/api/audio/ + /api/transcriptions/ + polls: {api:.2f} s",
        v1 / api,
        "<= 1.1",
        v1 / api <= 1.1,
    )


def read_latencies(base: str, key: str, count: int = 40) -> list[float]:
    latencies = []
    for _ in range(count):
        started = time.monotonic()
        requests.get(
            f"{base}/api/wallet/details/", headers={"Authorization": f"Bearer {key}"}, timeout=30
        ).raise_for_status()
        latencies.append(time.monotonic() - started)
    return latencies


def waiting(scratch: Path, audio: Path) -> list[Row]:
    with FakeOpenAI(latency=JOB_SECONDS) as fake:
        env = bench_env(
            scratch,
            TRANSCRIPTION_ENGINE="openai",
            OPENAI_API_KEY="sk-bench",
            OPENAI_BASE_URL=fake.base_url,
            GUNICORN_TIMEOUT="10",
        )
        key = new_key(env)
        worker = start_worker(env, "--pool=threads", f"--concurrency={WAITING}")
        server, base = start_gunicorn(env, workers=1)
        try:
            through_v1(base, key, audio)  # everything loaded once
            idle = statistics.median(read_latencies(base, key))
            with ThreadPoolExecutor(WAITING) as pool:
                started = time.monotonic()
                waits = [pool.submit(through_v1, base, key, audio) for _ in range(WAITING)]
                while len(fake.requests) < 1 + WAITING:  # every job is with the engine: each request waits
                    time.sleep(0.1)
                busy = statistics.median(read_latencies(base, key))
                answered = [wait.result() for wait in waits]
                longest = time.monotonic() - started
        finally:
            stop(server)
            stop(worker)
    return [
        Row(
            f"{WAITING} /v1 requests waiting {JOB_SECONDS:.0f} s on one gunicorn worker, timeout 10 s",
            f"{len(answered)} answered 200, the last after {longest:.1f} s",
            target=f"{WAITING} answered, > 10 s",
            met=len(answered) == WAITING and longest > 10,
        ),
        Row(
            f"GET /api/wallet/details/ on that worker while {WAITING} requests wait, median",
            f"{busy * 1000:.1f} ms",
            f"nobody waiting: {idle * 1000:.1f} ms",
            busy / idle,
            "<= 2",
            busy / idle <= 2,
        ),
    ]


def run(*, rounds: int = 5) -> list[Row]:
    scratch = Path(tempfile.mkdtemp(prefix="bench-openai-api-"))
    audio = joined(scratch / "speech.wav").path
    return [overhead(scratch, audio, rounds), *waiting(scratch, audio)]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    print_rows("OpenAI-compatible API against /api/", run(rounds=parser.parse_args().rounds))
