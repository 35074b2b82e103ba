"""The embedded default has no beat: the web process runs the schedule (the reaper) itself."""

import json
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from config import scheduler
from transcriptions import services, tasks
from transcriptions.models import Transcription

pytestmark = pytest.mark.django_db(transaction=True)  # the schedule's thread has its own connection


@pytest.fixture
def stranded_job(user, make_audio_file, speech_wav, monkeypatch):
    """A job whose message was lost and whose second run is spent: the reaper's to fail."""
    with monkeypatch.context() as patch:
        patch.setattr(services, "_enqueue", lambda *args, **kwargs: None)
        job, _ = services.transcription_create(user=user, audio_file_id=make_audio_file(user, speech_wav).pk)
    Transcription.objects.filter(pk=job.pk).update(deadline_at=timezone.now() - timedelta(seconds=1), requeues=1)
    return job


def wait_until_failed(job, seconds: float = 10) -> Transcription:
    deadline = time.monotonic() + seconds
    while (job := Transcription.objects.get(pk=job.pk)).status != "failed" and time.monotonic() < deadline:
        time.sleep(0.05)
    return job


def test_the_in_process_beat_runs_the_reaper_and_survives_a_failed_run(stranded_job, monkeypatch):
    runs = []

    def reap_failing_once():
        runs.append(time.monotonic())
        if len(runs) == 1:
            raise RuntimeError("the database went away")
        services.transcription_reap()

    monkeypatch.setattr(tasks, "transcription_reap", reap_failing_once)
    beat = scheduler.InProcessBeat({"reap": {"task": "transcriptions.reap", "schedule": 0.1}})
    beat.start()
    try:
        job = wait_until_failed(stranded_job)
    finally:
        beat.stop()

    assert (job.status, job.error_code) == ("failed", "transcription_not_started")
    assert len(runs) >= 2


def test_the_first_request_starts_the_schedule_once_where_there_is_no_beat(
    stranded_job, anon_client, settings, monkeypatch
):
    settings.SCHEDULE_IN_PROCESS = True
    settings.CELERY_BEAT_SCHEDULE = {"reap": {"task": "transcriptions.reap", "schedule": 0.1}}
    monkeypatch.setattr(scheduler, "_beat", None)

    anon_client.get("/health/")
    first = scheduler._beat
    anon_client.get("/health/")
    try:
        job = wait_until_failed(stranded_job)
    finally:
        first.stop()

    assert first is scheduler._beat
    assert job.status == "failed"


def test_no_schedule_runs_in_a_process_that_has_a_beat(anon_client, settings, monkeypatch):
    settings.SCHEDULE_IN_PROCESS = False
    monkeypatch.setattr(scheduler, "_beat", None)

    anon_client.get("/health/")

    assert scheduler._beat is None


def test_a_job_whose_web_process_died_mid_run_runs_again_once_the_schedule_starts(
    user, make_audio_file, speech_wav, fake_openai, settings, monkeypatch
):
    with monkeypatch.context() as patch:
        patch.setattr(services, "_enqueue", lambda *args, **kwargs: None)
        job, _ = services.transcription_create(user=user, audio_file_id=make_audio_file(user, speech_wav).pk)
    silent = timedelta(seconds=settings.TRANSCRIPTION_HEARTBEAT_TIMEOUT_SECONDS + 1)
    now = timezone.now()
    # As the process that ran it in-process left it: processing, its deadline far off, no beats since.
    Transcription.objects.filter(pk=job.pk).update(
        status="processing", run_id="dead-process", heartbeat_at=now - silent, deadline_at=now + timedelta(hours=1)
    )
    beat = scheduler.InProcessBeat({"reap": {"task": "transcriptions.reap", "schedule": 0.1}})
    beat.start()
    try:
        deadline = time.monotonic() + 10
        while (job := Transcription.objects.get(pk=job.pk)).status != "completed" and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        beat.stop()

    assert (job.status, job.requeues) == ("completed", 1)


RESOLVE_SCHEDULE = """
import json
from celery import current_app
from django.conf import settings
from config.scheduler import InProcessBeat
beat = InProcessBeat(settings.CELERY_BEAT_SCHEDULE)
print(json.dumps(sorted(task for task, _ in beat.entries.values() if task in current_app.tasks)))
"""


def test_every_scheduled_task_is_known_to_a_fresh_web_process():
    """A web process imports only the tasks modules its own code reaches: the schedule must not
    depend on which those are (the retention purge and the ledger audit were once unknown there)."""
    resolved = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", RESOLVE_SCHEDULE],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        cwd=settings.BASE_DIR,
    )

    assert json.loads(resolved.stdout.splitlines()[-1]) == sorted(
        entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()
    )


def test_a_schedule_naming_an_unknown_task_fails_at_start():
    with pytest.raises(ImproperlyConfigured, match=r"audio\.purge_everything"):
        scheduler.InProcessBeat({"purge": {"task": "audio.purge_everything", "schedule": 1}})
