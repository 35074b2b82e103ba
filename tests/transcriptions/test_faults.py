"""Faults under a real Celery worker on Redis: its processes killed mid-job, the database and the
broker cut while it works. Each ends with every job finished, holds settled once and the ledger clean."""

import time
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from tests.production.faults import CuttableProxy
from tests.transcriptions.conftest import ffmpeg, set_wallet
from tests.workers import Worker, database_url, own_queue, sending_to, wait_for
from transcriptions import services
from transcriptions.models import Transcription
from wallet.models import Hold, Transaction, Wallet

pytestmark = pytest.mark.django_db(transaction=True)  # the worker reads what the test has committed

BROKER_URL = "redis://127.0.0.1:6379/7"
URL = "/api/transcriptions/"
ENGINE_SECONDS = 2.0  # how long the fake OpenAI takes to answer: the window in which faults strike


@pytest.fixture
def openai(fake_openai):
    fake_openai.latency = ENGINE_SECONDS
    return fake_openai


@pytest.fixture
def queue():
    with own_queue(BROKER_URL) as name:
        yield name


@pytest.fixture
def start_worker(tmp_path, openai, queue):
    workers = []

    def start(beat: bool = False, **env: str) -> Worker:
        env = {"TRANSCRIPTION_ENGINE": "openai", "OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": openai.base_url, **env}
        broker_url = env.pop("CELERY_BROKER_URL", BROKER_URL)
        worker = Worker(tmp_path / f"worker-{len(workers)}.log", broker_url=broker_url, queue=queue, beat=beat, **env)
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()


def request_job(client, audio, queue: str) -> str:
    with sending_to(BROKER_URL, queue):
        response = client.post(URL, {"audio_file": str(audio.pk)}, format="json")
    assert response.status_code == 202, response.json()
    return response.json()["id"]


def engine_called(openai, times: int = 1) -> None:
    """Wait until the engine's request is in flight: the job is mid-run, past its preparation."""
    deadline = time.monotonic() + 120  # a worker's start and a long file's first chunks, on a busy machine
    while len(openai.requests) < times:
        assert time.monotonic() < deadline, "the engine was never called"
        time.sleep(0.05)


def assert_charged_once_and_ledger_clean(user, job: Transcription) -> None:
    assert job.status == "completed", job.error
    assert Hold.objects.get(subject_id=job.pk).status == Hold.Status.CAPTURED
    assert Transaction.objects.filter(subject_id=job.pk).count() == 1
    call_command("audit_ledger")  # raises on any mismatch


def assert_nothing_held(user) -> None:
    wallet = Wallet.objects.get(user=user)
    assert (wallet.held, wallet.demo_minutes_held) == (0, 0)
    spent = sum(job.billable_minutes for job in Transcription.objects.filter(user=user, status="completed"))
    assert wallet.demo_minutes_remaining == max(Decimal("10.00") - spent, Decimal("0.00"))


def test_a_pool_process_killed_mid_job_is_replaced_and_the_job_runs_again(
    start_worker, openai, user, make_audio_file, speech_wav, api_client, queue
):
    worker = start_worker()
    job_id = request_job(api_client, make_audio_file(user, speech_wav), queue)
    engine_called(openai)

    worker.kill_children()  # SIGKILL while the engine call is in flight

    job = wait_for(job_id, "completed", "failed", worker=worker)
    assert "WorkerLostError" in worker.log
    assert len(openai.requests) == 2  # the killed run's call, then the retry's
    assert job.requeues == 0  # the task's own retry finished it; the reaper was not needed
    assert_charged_once_and_ledger_clean(user, job)
    assert_nothing_held(user)


# Liveness settings shrunk to fit a test: a job silent for 5 s is orphaned and the reaper (beat in
# the replacement worker) looks every second. The soak runs the defaults (60 s, 30 s).
LIVENESS = {
    "TRANSCRIPTION_HEARTBEAT_SECONDS": "1",
    "TRANSCRIPTION_HEARTBEAT_TIMEOUT_SECONDS": "5",
    "TRANSCRIPTION_REAPER_INTERVAL_SECONDS": "1",
    "CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT": "1",
    "TRANSCRIPTION_CONCURRENCY": "1",  # a long file's chunks one after another: a kill lands mid-way
}
# From the kill to the job's completion: the orphan found (timeout + interval), a worker's start,
# the whole run again, with room for a loaded machine; far below the hard time limit it used to wait.
BOUND_SECONDS = 60


@pytest.fixture(scope="session")
def half_hour_mp3(audio_dir):
    path = audio_dir / "half-hour.mp3"
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=300:duration=1800", "-ac", "1", "-ar", "8000", "-b:a", "8k", str(path))
    return path


@pytest.fixture(params=["10 s", "30 min"])
def recording(request, user, make_audio_file, speech_wav, half_hour_mp3):
    """The audio, and how many engine calls in the job is mid-way (its second chunk of three, for 30 min)."""
    if request.param == "10 s":
        return make_audio_file(user, speech_wav), 1
    set_wallet(user, balance=Decimal("50.00"), demo_minutes=Decimal("10.00"))
    return make_audio_file(user, half_hour_mp3), 2


def test_a_whole_worker_killed_mid_job_hands_it_to_another_worker_within_the_bound(
    start_worker, openai, user, recording, api_client, queue
):
    audio, mid_way = recording
    worker = start_worker(**LIVENESS)
    job_id = request_job(api_client, audio, queue)
    engine_called(openai, mid_way)

    worker.kill()  # parent and pool together: nothing acknowledged, no beat left; the job stays `processing`
    killed = time.monotonic()
    replacement = start_worker(beat=True, **LIVENESS)

    job = wait_for(job_id, "completed", "failed", worker=replacement, seconds=BOUND_SECONDS)
    assert time.monotonic() - killed < BOUND_SECONDS
    assert job.deadline_at is None and job.requeues == 1  # the reaper found it orphaned, long before any deadline
    assert "Task transcriptions.reap[" in replacement.log
    assert_charged_once_and_ledger_clean(user, job)
    assert_nothing_held(user)


def test_a_worker_told_to_stop_mid_job_hands_it_back_and_another_worker_resumes_it(
    start_worker, openai, user, recording, api_client, queue
):
    audio, mid_way = recording
    worker = start_worker(**LIVENESS)
    job_id = request_job(api_client, audio, queue)
    engine_called(openai, mid_way)
    successor = start_worker(beat=True, **LIVENESS)  # a rolling deploy: the new one up, then the old one told

    worker.terminate()
    told = time.monotonic()

    assert worker.process.wait(timeout=20) is not None  # it did not wait for the job to end
    job = wait_for(job_id, "completed", "failed", worker=successor, seconds=BOUND_SECONDS)
    assert time.monotonic() - told < BOUND_SECONDS
    assert "Soft Shutdown" in worker.log
    assert job.requeues == 0  # its own message came back, same run id: resumed, not reaped
    assert_charged_once_and_ledger_clean(user, job)
    assert_nothing_held(user)


def test_a_job_whose_worker_dies_on_every_run_fails_with_nothing_held(
    start_worker, openai, user, make_audio_file, speech_wav, api_client, queue
):
    worker = start_worker(**LIVENESS)
    job_id = request_job(api_client, make_audio_file(user, speech_wav), queue)
    for run in (1, 2):  # the first run, then the reaper's one more
        engine_called(openai, run)
        worker.kill()
        worker = start_worker(beat=True, **LIVENESS)

    job = wait_for(job_id, "completed", "failed", worker=worker, seconds=BOUND_SECONDS)
    assert (job.status, job.error_code, job.requeues) == ("failed", "transcription_interrupted", 1)
    assert len(openai.requests) == 2  # no third run
    assert not Transaction.objects.filter(subject_id=job.pk).exists()
    assert Hold.objects.get(subject_id=job.pk).status == Hold.Status.RELEASED
    assert_nothing_held(user)


@pytest.mark.parametrize("when", ["before the worker takes the job", "while the engine runs"])
def test_the_database_cut_under_a_worker_is_retried_until_the_job_completes(
    when, database_proxy, start_worker, openai, user, make_audio_file, speech_wav, api_client, queue
):
    worker = start_worker(DATABASE_URL=database_url("127.0.0.1", database_proxy.port), CONN_MAX_AGE="60")
    worker.wait_ready()  # the cut must meet a worker at work, not one still starting on a busy machine
    audio = make_audio_file(user, speech_wav)
    if when == "before the worker takes the job":
        database_proxy.cut()
        job_id = request_job(api_client, audio, queue)  # the web process reaches the database directly
    else:
        job_id = request_job(api_client, audio, queue)
        engine_called(openai)
        database_proxy.cut()  # the result arrives while the database is gone
    time.sleep(ENGINE_SECONDS + 2)
    database_proxy.restore()

    job = wait_for(job_id, "completed", "failed", worker=worker)
    assert "Retry in" in worker.log  # the task's own retry, not luck
    assert_charged_once_and_ledger_clean(user, job)
    assert_nothing_held(user)


def test_the_broker_cut_under_a_busy_worker_loses_no_job(
    start_worker, openai, user, make_audio_file, speech_wav, api_client, queue
):
    proxy = CuttableProxy("127.0.0.1", 6379)
    try:
        worker = start_worker(CELERY_BROKER_URL=f"redis://127.0.0.1:{proxy.port}/7")
        first = request_job(api_client, make_audio_file(user, speech_wav), queue)
        engine_called(openai)
        proxy.cut()
        time.sleep(ENGINE_SECONDS + 1)
        proxy.restore()
        second = request_job(api_client, make_audio_file(user, speech_wav), queue)  # queued once the broker is back

        jobs = [wait_for(job_id, "completed", "failed", worker=worker) for job_id in (first, second)]
    finally:
        proxy.close()
    for job in jobs:
        assert_charged_once_and_ledger_clean(user, job)
    assert_nothing_held(user)
    assert_nothing_held(user)
    assert not Transcription.objects.filter(status__in=["pending", "processing"]).exists()


def test_beat_runs_the_reaper_which_queues_a_lost_job_again(
    start_worker, openai, user, make_audio_file, speech_wav, monkeypatch
):
    monkeypatch.setattr(services, "_enqueue", lambda *args, **kwargs: None)  # the job's message is lost
    job, _ = services.transcription_create(user=user, audio_file_id=make_audio_file(user, speech_wav).pk)
    Transcription.objects.filter(pk=job.pk).update(deadline_at=timezone.now())

    worker = start_worker(beat=True, TRANSCRIPTION_REAPER_INTERVAL_SECONDS="1")

    job = wait_for(job.pk, "completed", "failed", worker=worker)
    assert "Task transcriptions.reap[" in worker.log
    assert job.requeues == 1
    assert_charged_once_and_ledger_clean(user, job)
    assert_nothing_held(user)
