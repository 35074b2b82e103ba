"""Celery beat's schedule run inside the web process, for the embedded default: with no broker
there is no beat, yet the reaper (and any other scheduled task) must still run."""

import logging
import threading
import time

from celery import current_app
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_beat: "InProcessBeat | None" = None


class InProcessBeat(threading.Thread):
    """Runs each `CELERY_BEAT_SCHEDULE` entry (a schedule in seconds) in-process, every so often."""

    def __init__(self, schedule: dict[str, dict]) -> None:
        super().__init__(name="in-process-beat", daemon=True)
        # A worker imports every app's tasks module when it starts; a web process imports only those
        # its code reaches, so the others' tasks (the retention purge, the ledger audit) would be
        # unknown here. An unknown name fails now, not at every run.
        current_app.loader.import_default_modules()
        self.entries = {name: (entry["task"], float(entry["schedule"])) for name, entry in schedule.items()}
        unknown = [task for task, _ in self.entries.values() if task not in current_app.tasks]
        if unknown:
            raise ImproperlyConfigured(f"CELERY_BEAT_SCHEDULE names tasks that do not exist: {', '.join(unknown)}")
        self.stopped = threading.Event()

    def run(self) -> None:
        due = {name: time.monotonic() + every for name, (_, every) in self.entries.items()}
        while not self.stopped.wait(max(0.0, min(due.values()) - time.monotonic())):
            for name, (task, every) in self.entries.items():
                if due[name] <= time.monotonic():
                    self._run(task)
                    due[name] = time.monotonic() + every

    def _run(self, task: str) -> None:
        try:
            current_app.tasks[task].apply(throw=True)
        except Exception:  # one failed run must not end the schedule
            logger.exception("Scheduled task %s failed", task)
        finally:
            connection.close()  # this thread's own connection

    def stop(self) -> None:
        self.stopped.set()
        self.join()


def start_in_process_beat(**kwargs) -> None:
    """On a request (Django's `request_started`), once per process: start the schedule when
    `SCHEDULE_IN_PROCESS` says this process is the one that runs it."""
    global _beat
    if _beat is not None or not settings.SCHEDULE_IN_PROCESS:
        return
    with _lock:
        if _beat is None:
            _beat = InProcessBeat(settings.CELERY_BEAT_SCHEDULE)
            _beat.start()
