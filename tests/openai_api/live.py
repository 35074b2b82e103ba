"""The service as the embedded default runs it, in a process of its own (`manage.py runserver`, no
broker: jobs run in the request), on the test's own database and media, for clients that need a
real server: the official OpenAI SDK. Tests using it are transactional, so both processes see
what the other committed; each server's log is kept for the requests it answered."""

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings

from bench.common import free_port, stop, wait_until_up
from tests.workers import database_url


class LiveServer:
    """`manage.py runserver`, or with `gunicorn=True` the production WSGI server (one worker, its
    threads) on the same settings."""

    def __init__(self, log: Path, *, gunicorn: bool = False, **env: str) -> None:
        self.log_path = log
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        environment = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "DEBUG": "false",
            "SECRET_KEY": settings.SECRET_KEY,  # the test's JWTs are signed with it
            "DATABASE_URL": database_url(),
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "CELERY_BROKER_URL": "",
            "REDIS_URL": "",
            "SCHEDULE_IN_PROCESS": "false",  # the test decides when anything is reaped
            "WEBHOOK_ALLOW_PRIVATE_URLS": "true",  # receivers listen on 127.0.0.1
            "LOG_LEVEL": "INFO",
            "LOG_FORMAT": "plain",
            "OPENAI_API_KEY": "",
            **env,
        }
        command = [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"]
        if gunicorn:
            environment.update(GUNICORN_BIND=f"127.0.0.1:{port}", GUNICORN_WORKERS="1")
            command = [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py", "config.wsgi"]
        with log.open("a") as out:
            self.process = subprocess.Popen(
                command, cwd=settings.BASE_DIR, env=environment, stdout=out, stderr=subprocess.STDOUT
            )
        try:
            wait_until_up(f"{self.url}/health/", self.process, seconds=120)
        except BaseException:
            self.stop()
            raise

    @property
    def log(self) -> str:
        return self.log_path.read_text()

    def answered(self, method: str, path: str) -> list[int]:
        """The status of each request to `method path` that the server logged, in order."""
        line = re.compile(rf"\] {re.escape(method)} {re.escape(path)} (\d{{3}})$", re.MULTILINE)
        return [int(status) for status in line.findall(self.log)]

    def stop(self) -> None:
        stop(self.process)


@contextmanager
def live_server(tmp_path_factory, django_db_blocker, **options) -> Iterator[LiveServer]:
    """A `LiveServer` for a module's tests, its log in a directory of its own, stopped after them."""
    with django_db_blocker.unblock():
        running = LiveServer(tmp_path_factory.mktemp("live") / "server.log", **options)
    try:
        yield running
    finally:
        running.stop()
