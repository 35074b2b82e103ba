"""Background work for real: a Celery worker process on Redis, and a broker that cannot be reached."""

import os
import subprocess
import sys
import time
from contextlib import contextmanager
from decimal import Decimal

import pytest
import redis
from celery import Celery
from celery import current_app as current_celery_app
from django.conf import settings
from django.db import connection

from transcriptions.models import Transcription
from wallet.models import Hold, Wallet

pytestmark = pytest.mark.django_db(transaction=True)  # the worker reads what the test has committed

BROKER_URL = "redis://127.0.0.1:6379/6"
URL = "/api/transcriptions/"
WORKER_TIMEOUT_SECONDS = 60


@contextmanager
def sending_to(broker_url: str):
    """Tasks go to `broker_url` instead of running in-process, as in production."""
    app = Celery("transcription", set_as_current=False)
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.conf.update(broker_url=broker_url, task_always_eager=False)
    previous = current_celery_app._get_current_object()
    app.set_current()
    try:
        yield
    finally:
        previous.set_current()
        app.close()


def database_url() -> str:
    """The test database, for another process: a file for SQLite, `test_<name>` on MySQL/MariaDB."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    return f"mysql://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 3306}/{db['NAME']}"


@pytest.fixture
def worker():
    redis.Redis.from_url(BROKER_URL).flushdb()  # this test's own Redis database: no stale messages
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DATABASE_URL": database_url(),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "CELERY_BROKER_URL": BROKER_URL,
        "OPENAI_API_KEY": "",
        "TRANSCRIPTION_ENGINE": "local",
    }
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--loglevel=INFO"]
    command += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
    process = subprocess.Popen(
        command, cwd=settings.BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_a_worker_on_redis_runs_the_queued_job_to_completion(worker, user, make_audio_file, speech_wav, api_client):
    audio = make_audio_file(user, speech_wav)

    with sending_to(BROKER_URL):
        response = api_client.post(URL, {"audio_file": str(audio.pk)}, format="json")

    assert response.status_code == 202
    assert response.json()["status"] == "pending"
    deadline = time.monotonic() + WORKER_TIMEOUT_SECONDS
    while (job := Transcription.objects.get(pk=response.json()["id"])).status in ("pending", "processing"):
        if worker.poll() is not None or time.monotonic() > deadline:
            worker.terminate()
            pytest.fail(f"the worker did not finish the job:\n{worker.communicate(timeout=10)[0]}")
        time.sleep(0.2)
    assert job.status == "completed", job.error
    worker.terminate()
    assert "Task transcriptions.transcribe[" in worker.communicate(timeout=10)[0]  # the worker ran it
    assert (job.engine, job.progress) == ("local", 100)
    assert job.text.strip()
    assert Hold.objects.get(transcription=job).status == Hold.Status.CAPTURED
    wallet = Wallet.objects.get(user=user)
    assert wallet.demo_minutes_remaining == Decimal("10.00") - job.billable_minutes
    assert wallet.demo_minutes_held == 0


def test_a_broker_that_cannot_be_reached_fails_the_job_with_503_and_charges_nothing(
    user, make_audio_file, speech_wav, api_client
):
    audio = make_audio_file(user, speech_wav)

    with sending_to("redis://127.0.0.1:1/0"):  # nothing listens on port 1
        response = api_client.post(URL, {"audio_file": str(audio.pk)}, format="json")

    assert response.status_code == 503
    assert response.json()["code"] == "transcription_queue_unavailable"
    job = Transcription.objects.get()
    assert (job.status, job.error_code) == ("failed", "transcription_queue_unavailable")
    assert Hold.objects.get(transcription=job).status == Hold.Status.RELEASED
    assert Wallet.objects.get(user=user).demo_minutes_held == 0
