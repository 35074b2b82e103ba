"""A job's life has no dead end: deadlines, time limits and the reaper that acts on them."""

import threading
import time
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from transcriptions import services
from transcriptions.models import Transcription
from transcriptions.selectors import transcription_stuck
from transcriptions.services import (
    HARD_LIMIT_MARGIN_SECONDS,
    REAP_GRACE_SECONDS,
    transcription_create,
    transcription_reap,
    transcription_time_limits,
)
from wallet.models import Hold, Transaction, Wallet

pytestmark = pytest.mark.django_db

LATER = timedelta(hours=3)  # past every deadline a test makes


def queued(user, audio, django_capture_on_commit_callbacks) -> Transcription:
    """A job created and paid for whose message went nowhere (as if its publisher died)."""
    with django_capture_on_commit_callbacks():
        job, _ = transcription_create(user=user, audio_file_id=audio.pk)
    return job


def stuck_in_processing(job: Transcription, *, requeues: int = 0, silent_for: timedelta | None = None) -> None:
    """The job as a worker that died mid-run leaves it: its last heartbeat `silent_for` ago."""
    now = timezone.now()
    Transcription.objects.filter(pk=job.pk).update(
        status="processing",
        run_id="dead-task",
        started_at=now,
        heartbeat_at=None if silent_for is None else now - silent_for,
        deadline_at=now + timedelta(minutes=5),
        requeues=requeues,
    )


def heartbeat_timeout() -> timedelta:
    return timedelta(seconds=settings.TRANSCRIPTION_HEARTBEAT_TIMEOUT_SECONDS)


def assert_released_and_nothing_charged(user, job: Transcription) -> None:
    wallet = Wallet.objects.get(user=user)
    assert (wallet.held, wallet.demo_minutes_held, wallet.demo_minutes_remaining) == (0, 0, Decimal("10.00"))
    assert Hold.objects.get(subject_id=job.pk).status == Hold.Status.RELEASED
    assert not Transaction.objects.filter(subject_id=job.pk).exists()


def test_time_limits_grow_with_the_audio_and_the_broker_outwaits_the_longest_job():
    short = transcription_time_limits(duration_seconds=Decimal("10.5"))
    hour = transcription_time_limits(duration_seconds=Decimal(settings.MAX_AUDIO_MINUTES * 60))

    assert short.soft == settings.TRANSCRIPTION_TIME_LIMIT_BASE_SECONDS + 11
    assert short.hard == short.soft + HARD_LIMIT_MARGIN_SECONDS
    assert hour.soft == settings.TRANSCRIPTION_TIME_LIMIT_BASE_SECONDS + settings.MAX_AUDIO_MINUTES * 60
    # An unacknowledged message comes back to another worker only after the longest job has had its time.
    assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] > hour.hard + REAP_GRACE_SECONDS


def test_a_new_job_is_the_reapers_once_it_waited_the_queue_timeout(
    user, make_audio_file, speech_wav, django_capture_on_commit_callbacks
):
    before = timezone.now()
    job = queued(user, make_audio_file(user, speech_wav), django_capture_on_commit_callbacks)

    timeout = timedelta(seconds=settings.TRANSCRIPTION_QUEUE_TIMEOUT_SECONDS)
    assert before + timeout <= job.deadline_at <= timezone.now() + timeout
    assert transcription_reap().requeued == []  # not yet


def test_a_running_jobs_deadline_is_its_hard_time_limit_the_outer_bound(
    user, make_audio_file, speech_wav, fake_openai, run_jobs, monkeypatch
):
    seen = []
    recorder = services._progress_recorder

    def watched(transcription_id, **run):
        record = recorder(transcription_id, **run)

        def and_read_the_deadline(fraction):
            record(fraction)
            seen.append(Transcription.objects.values("started_at", "deadline_at").get(pk=transcription_id))

        return and_read_the_deadline

    monkeypatch.setattr(services, "_progress_recorder", watched)
    audio = make_audio_file(user, speech_wav)

    job = run_jobs(user=user, audio_file_id=audio.pk)

    limit = transcription_time_limits(duration_seconds=audio.duration_seconds).hard + REAP_GRACE_SECONDS
    assert seen[0]["deadline_at"] - seen[0]["started_at"] == timedelta(seconds=limit)
    assert (job.status, job.deadline_at) == ("completed", None)  # a finished job has no deadline


def test_a_job_no_worker_took_is_queued_again_and_runs(
    user, make_audio_file, speech_wav, fake_openai, django_capture_on_commit_callbacks
):
    job = queued(user, make_audio_file(user, speech_wav), django_capture_on_commit_callbacks)

    with django_capture_on_commit_callbacks(execute=True):  # the new message runs in-process here
        report = transcription_reap(now=timezone.now() + LATER)

    job.refresh_from_db()
    assert (report.requeued, report.failed) == ([job.pk], [])
    assert (job.status, job.requeues) == ("completed", 1)
    assert Transaction.objects.filter(subject_id=job.pk).count() == 1


def test_a_job_whose_worker_died_is_queued_again_and_the_dead_runs_result_is_dropped(
    user, make_audio_file, speech_wav, fake_openai, django_capture_on_commit_callbacks
):
    job = queued(user, make_audio_file(user, speech_wav), django_capture_on_commit_callbacks)
    stuck_in_processing(job)

    with django_capture_on_commit_callbacks(execute=True):
        report = transcription_reap(now=timezone.now() + LATER)
    late = services._complete(job.pk, services.EngineResult(text="late", segments=None), run_id="dead-task")

    job.refresh_from_db()
    assert report.requeued == [job.pk]
    assert late is False
    assert (job.status, job.text) == ("completed", "First half of chunk-000.mp3. Second half of chunk-000.mp3.")
    assert job.run_id not in ("", "dead-task")
    assert Transaction.objects.filter(subject_id=job.pk).count() == 1


def test_a_job_whose_heartbeat_stopped_is_queued_again_long_before_its_deadline(
    user, make_audio_file, speech_wav, fake_openai, django_capture_on_commit_callbacks
):
    job = queued(user, make_audio_file(user, speech_wav), django_capture_on_commit_callbacks)
    stuck_in_processing(job, silent_for=heartbeat_timeout() + timedelta(seconds=1))

    with django_capture_on_commit_callbacks(execute=True):
        report = transcription_reap()  # now: its deadline is minutes away

    job.refresh_from_db()
    assert report.requeued == [job.pk]
    assert (job.status, job.requeues) == ("completed", 1)
    assert Transaction.objects.filter(subject_id=job.pk).count() == 1


def test_a_job_whose_heartbeat_is_recent_is_left_to_its_worker(
    user, make_audio_file, speech_wav, django_capture_on_commit_callbacks
):
    job = queued(user, make_audio_file(user, speech_wav), django_capture_on_commit_callbacks)
    stuck_in_processing(job, silent_for=heartbeat_timeout() - timedelta(seconds=5))

    report = transcription_reap()

    assert (report.requeued, report.failed) == ([], [])
    assert Transcription.objects.get(pk=job.pk).status == "processing"


@pytest.mark.parametrize(
    ("status", "code", "stalled"),
    [
        ("pending", "transcription_not_started", "past its deadline"),
        ("processing", "transcription_interrupted", "past its deadline"),
        ("processing", "transcription_interrupted", "heartbeat stopped"),
    ],
)
def test_after_its_second_run_a_stuck_job_fails_with_its_hold_released(
    status, code, stalled, user, make_audio_file, speech_wav, django_capture_on_commit_callbacks
):
    job = queued(user, make_audio_file(user, speech_wav), django_capture_on_commit_callbacks)
    if status == "processing":
        silent_for = heartbeat_timeout() * 2 if stalled == "heartbeat stopped" else None
        stuck_in_processing(job, requeues=1, silent_for=silent_for)
    else:
        Transcription.objects.filter(pk=job.pk).update(requeues=1)
    now = timezone.now() if stalled == "heartbeat stopped" else timezone.now() + LATER

    report = transcription_reap(now=now)
    again = transcription_reap(now=now)

    job.refresh_from_db()
    assert (report.requeued, report.failed) == ([], [job.pk])
    assert (again.requeued, again.failed) == ([], [])
    assert (job.status, job.error_code, job.deadline_at) == ("failed", code, None)
    assert "Nothing was charged" in job.error
    assert_released_and_nothing_charged(user, job)


def test_the_reaper_leaves_jobs_before_their_deadline_and_finished_jobs_alone(
    user, make_audio_file, speech_wav, fake_openai, run_jobs, django_capture_on_commit_callbacks
):
    waiting = queued(user, make_audio_file(user, speech_wav), django_capture_on_commit_callbacks)
    running = queued(user, make_audio_file(user, speech_wav), django_capture_on_commit_callbacks)
    stuck_in_processing(running)
    done = run_jobs(user=user, audio_file_id=make_audio_file(user, speech_wav).pk)

    report = transcription_reap()

    assert (report.requeued, report.failed) == ([], [])
    statuses = Transcription.objects.in_bulk([waiting.pk, running.pk, done.pk])
    assert [statuses[job.pk].status for job in (waiting, running, done)] == ["pending", "processing", "completed"]


def test_a_result_that_arrives_after_the_job_was_failed_is_not_charged(
    user, make_audio_file, speech_wav, fake_openai, run_jobs, monkeypatch
):
    recorder = services._progress_recorder

    def reaped_meanwhile(transcription_id, **run):
        record = recorder(transcription_id, **run)

        def reap(fraction):
            record(fraction)
            Transcription.objects.filter(pk=transcription_id).update(requeues=1)
            assert transcription_reap(now=timezone.now() + LATER).failed == [transcription_id]

        return reap

    monkeypatch.setattr(services, "_progress_recorder", reaped_meanwhile)

    job = run_jobs(user=user, audio_file_id=make_audio_file(user, speech_wav).pk)

    assert (job.status, job.error_code, job.text) == ("failed", "transcription_interrupted", "")
    assert_released_and_nothing_charged(user, job)


def test_a_job_queued_again_while_its_first_run_still_works_completes_once(
    user, make_audio_file, speech_wav, fake_openai, run_jobs, monkeypatch
):
    recorder = services._progress_recorder
    reaped = []

    def requeued_meanwhile(transcription_id, **run):
        record = recorder(transcription_id, **run)

        def reap(fraction):
            record(fraction)
            if not reaped:  # once: the second run is left to finish
                reaped.extend(transcription_reap(now=timezone.now() + LATER).requeued)

        return reap

    monkeypatch.setattr(services, "_progress_recorder", requeued_meanwhile)

    job = run_jobs(user=user, audio_file_id=make_audio_file(user, speech_wav).pk)

    assert reaped == [job.pk]
    assert (job.status, job.requeues) == ("completed", 1)
    assert len(fake_openai.requests) == 2  # the first run's result was dropped, the second kept
    assert Transaction.objects.filter(subject_id=job.pk).count() == 1


def test_running_out_of_time_fails_the_job_and_charges_nothing(
    user, make_audio_file, speech_wav, fake_openai, run_jobs, monkeypatch
):
    def out_of_time(transcription_id, **run):
        def record(fraction):
            raise SoftTimeLimitExceeded()  # what Celery raises in the task at its soft time limit

        return record

    monkeypatch.setattr(services, "_progress_recorder", out_of_time)

    job = run_jobs(user=user, audio_file_id=make_audio_file(user, speech_wav).pk)

    assert (job.status, job.error_code) == ("failed", "transcription_timed_out")
    assert_released_and_nothing_charged(user, job)


def test_the_command_reports_what_it_did(user, make_audio_file, speech_wav, django_capture_on_commit_callbacks):
    again = queued(user, make_audio_file(user, speech_wav), django_capture_on_commit_callbacks)
    failed = queued(user, make_audio_file(user, speech_wav), django_capture_on_commit_callbacks)
    past = timezone.now() - timedelta(seconds=1)
    Transcription.objects.filter(pk=again.pk).update(deadline_at=past)
    Transcription.objects.filter(pk=failed.pk).update(deadline_at=past, requeues=1)
    out = StringIO()

    with django_capture_on_commit_callbacks():
        call_command("reap_stuck_transcriptions", stdout=out)

    assert out.getvalue() == (
        f"requeued {again.pk}\nfailed {failed.pk}\n"
        "1 stuck transcription(s) queued again, 1 failed and their holds released.\n"
    )


@pytest.mark.mysql
@pytest.mark.django_db(transaction=True)
def test_reapers_running_at_once_act_on_each_job_once(user, make_audio_file, speech_wav, monkeypatch):
    if connection.vendor != "mysql":
        pytest.skip("SQLite has no row locks; the tests above cover one reaper at a time")
    monkeypatch.setattr(services, "_enqueue", lambda *args, **kwargs: None)  # their messages are lost
    jobs = []
    for _ in range(6):
        job, _ = transcription_create(user=user, audio_file_id=make_audio_file(user, speech_wav).pk)
        jobs.append(job)
    Transcription.objects.filter(pk__in=[job.pk for job in jobs]).update(requeues=1)  # due to fail
    reports = []
    start = threading.Barrier(4)

    def reaper():
        try:
            start.wait()
            reports.append(transcription_reap(now=timezone.now() + LATER))
        finally:
            connection.close()

    threads = [threading.Thread(target=reaper) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    failed = sorted(str(pk) for report in reports for pk in report.failed)
    assert failed == sorted(str(job.pk) for job in jobs)  # each job failed by exactly one reaper
    wallet = Wallet.objects.get(user=user)
    assert (wallet.held, wallet.demo_minutes_held, wallet.demo_minutes_remaining) == (0, 0, Decimal("10.00"))
    assert set(Hold.objects.values_list("status", flat=True)) == {"released"}


@pytest.mark.django_db(transaction=True)  # the heartbeat's thread writes on a connection of its own
def test_a_running_job_beats_while_one_long_engine_call_makes_no_progress(
    user, make_audio_file, speech_wav, fake_openai, settings
):
    settings.TRANSCRIPTION_HEARTBEAT_SECONDS = 0.2
    fake_openai.latency = 1.5  # one call, one chunk: no progress step until it answers
    audio = make_audio_file(user, speech_wav)
    beats: set = set()
    done = threading.Event()

    def watch() -> None:
        try:
            while not done.is_set():
                beats.update(Transcription.objects.filter(user=user).values_list("heartbeat_at", flat=True))
                time.sleep(0.02)
        finally:
            connection.close()

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        job, _ = transcription_create(user=user, audio_file_id=audio.pk)  # runs in-process, as embedded
    finally:
        done.set()
        watcher.join()

    assert Transcription.objects.get(pk=job.pk).status == "completed"
    assert len(beats - {None}) >= 4  # the claim's, the thread's every 0.2 s, the last progress step's


def test_the_jobs_listed_as_stuck_are_those_the_reaper_acts_on(
    user, make_audio_file, speech_wav, django_capture_on_commit_callbacks
):
    orphaned, beating, overdue = (
        queued(user, make_audio_file(user, speech_wav), django_capture_on_commit_callbacks) for _ in range(3)
    )
    stuck_in_processing(orphaned, silent_for=heartbeat_timeout() + timedelta(seconds=1))
    stuck_in_processing(beating, silent_for=timedelta(seconds=1))
    Transcription.objects.filter(pk=overdue.pk).update(deadline_at=timezone.now() - timedelta(seconds=1))

    assert set(transcription_stuck(now=timezone.now())) == {orphaned, overdue}
