"""Real Celery worker processes for tests: on the test's own database and a Redis database of
their own, started, killed and read like an operator would."""

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis
from celery import Celery
from celery import current_app as current_celery_app
from django.conf import settings
from django.db import connection

from tests.production.faults import child_pids, kill_hard, kill_with_children
from transcriptions.models import Transcription


@contextmanager
def sending_to(broker_url: str, queue: str = "celery", **conf) -> Iterator[None]:
    """Tasks go to `queue` at `broker_url` instead of running in-process, as in production."""
    app = Celery("transcription", set_as_current=False)
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.conf.update(broker_url=broker_url, task_always_eager=False, task_default_queue=queue, **conf)
    previous = current_celery_app._get_current_object()
    app.set_current()
    try:
        yield
    finally:
        previous.set_current()
        app.close()


def database_url(host: str | None = None, port: int | None = None) -> str:
    """The test database, for another process: a file for SQLite, `test_<name>` on MySQL/MariaDB
    (at `host`:`port` when given, such as a proxy in front of it)."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    host = host or db["HOST"] or "127.0.0.1"
    port = port or db["PORT"] or 3306
    return f"mysql://{db['USER']}:{db['PASSWORD']}@{host}:{port}/{db['NAME']}"


@contextmanager
def own_queue(broker_url: str) -> Iterator[str]:
    """A queue for one test alone: test runs sharing the Redis never take each other's tasks."""
    queue = f"test-{uuid.uuid4().hex[:12]}"
    try:
        yield queue
    finally:
        redis.Redis.from_url(broker_url).delete(queue)


class Worker:
    """`celery worker` in a process of its own, its log in a file."""

    def __init__(
        self, log: Path, *, broker_url: str, queue: str, pool: str = "prefork", beat: bool = False, **env: str
    ) -> None:
        self.log_path = log
        environment = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "DATABASE_URL": database_url(),
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "CELERY_BROKER_URL": broker_url,
            "CELERY_QUEUE": queue,
            "OPENAI_API_KEY": "",
            "TRANSCRIPTION_ENGINE": "local",
            # As production runs a worker: SIGTERM hands running jobs back (see the README).
            "REMAP_SIGTERM": "SIGQUIT",
            **env,
        }
        command = [sys.executable, "-m", "celery", "-A", "config", "worker", f"--pool={pool}", "--loglevel=INFO"]
        command += ["--concurrency=1", "--without-gossip", "--without-mingle", "--without-heartbeat"]
        if beat:  # the scheduler inside the worker, its state file beside the log
            command += ["--beat", f"--schedule={log.with_suffix('.beat')}"]
        with log.open("a") as out:
            self.process = subprocess.Popen(
                command, cwd=settings.BASE_DIR, env=environment, stdout=out, stderr=subprocess.STDOUT
            )

    @property
    def log(self) -> str:
        return self.log_path.read_text()

    def kill_children(self) -> None:
        """SIGKILL the pool's processes: the worker itself notices and carries on."""
        kill_hard(child_pids(self.process.pid))

    def kill(self) -> None:
        """SIGKILL the whole worker, as the OOM killer or a lost machine would: nothing is acknowledged."""
        kill_with_children(self.process)

    def wait_ready(self, seconds: float = 60) -> None:
        """Until the worker consumes from its queue (it logs `celery@… ready.`)."""
        deadline = time.monotonic() + seconds
        while " ready." not in self.log:
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise AssertionError(f"the worker did not start:\n{self.log[-5000:]}")
            time.sleep(0.1)

    def terminate(self) -> None:
        """SIGTERM, as a rolling deploy or `docker stop` sends it."""
        self.process.terminate()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


def wait_for(job_id, *statuses: str, worker: Worker, seconds: float = 60) -> Transcription:
    """Poll the job until its status is one of `statuses`; fail with the worker's log if it is not in time."""
    deadline = time.monotonic() + seconds
    while (job := Transcription.objects.get(pk=job_id)).status not in statuses:
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job.status}, not {statuses}, after {seconds} s:\n{worker.log[-5000:]}")
        time.sleep(0.1)
    return job
