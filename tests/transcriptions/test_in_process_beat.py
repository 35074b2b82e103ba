"""The embedded default has no beat: the web process runs the schedule (the reaper) itself."""

import time
from datetime import timedelta

import pytest
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
