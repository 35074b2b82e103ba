"""Background work for real: a Celery worker process on Redis, and a broker that cannot be reached."""

import socket
import time
from decimal import Decimal

import pytest

from tests.webhooks.receiver import Receiver
from tests.workers import Worker, own_queue, sending_to, wait_for
from transcriptions.models import Transcription
from wallet.models import Hold, Wallet
from webhooks.models import Delivery, Endpoint

pytestmark = pytest.mark.django_db(transaction=True)  # the worker reads what the test has committed

BROKER_URL = "redis://127.0.0.1:6379/6"
URL = "/api/transcriptions/"


@pytest.fixture
def queue():
    with own_queue(BROKER_URL) as name:
        yield name


@pytest.fixture
def worker(tmp_path, queue):
    worker = Worker(tmp_path / "worker.log", broker_url=BROKER_URL, queue=queue)
    yield worker
    worker.stop()


def test_a_worker_on_redis_runs_the_queued_job_to_completion(
    worker, queue, user, make_audio_file, speech_wav, api_client
):
    audio = make_audio_file(user, speech_wav)

    with sending_to(BROKER_URL, queue):
        response = api_client.post(URL, {"audio_file": str(audio.pk)}, format="json")

    assert response.status_code == 202
    assert response.json()["status"] == "pending"
    job = wait_for(response.json()["id"], "completed", "failed", worker=worker)
    assert job.status == "completed", job.error
    assert "Task transcriptions.transcribe[" in worker.log  # the worker ran it
    assert (job.engine, job.progress) == ("local", 100)
    assert job.text.strip()
    assert Hold.objects.get(subject_id=job.pk).status == Hold.Status.CAPTURED
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
    assert Hold.objects.get(subject_id=job.pk).status == Hold.Status.RELEASED
    assert Wallet.objects.get(user=user).demo_minutes_held == 0


def test_a_broker_that_accepts_but_never_answers_fails_the_job_in_bounded_time(
    user, make_audio_file, speech_wav, api_client
):
    audio = make_audio_file(user, speech_wav)
    silent = socket.create_server(("127.0.0.1", 0))  # takes connections, never says a word
    silent.listen(16)
    transport = {"socket_timeout": 0.3, "socket_connect_timeout": 0.3}
    try:
        with sending_to(f"redis://127.0.0.1:{silent.getsockname()[1]}/0", broker_transport_options=transport):
            started = time.monotonic()
            response = api_client.post(URL, {"audio_file": str(audio.pk)}, format="json")
            took = time.monotonic() - started
    finally:
        silent.close()

    assert response.status_code == 503
    assert response.json()["code"] == "transcription_queue_unavailable"
    assert took < 10
    assert Transcription.objects.get().status == "failed"
    assert Wallet.objects.get(user=user).demo_minutes_held == 0


def test_a_worker_and_beat_deliver_the_jobs_webhook_and_retry_it_after_a_500(
    tmp_path, queue, user, make_audio_file, speech_wav, api_client
):
    worker = Worker(
        tmp_path / "worker.log",
        broker_url=BROKER_URL,
        queue=queue,
        beat=True,
        WEBHOOK_ALLOW_PRIVATE_URLS="true",
        WEBHOOK_DISPATCH_INTERVAL_SECONDS="1",
    )
    try:
        with Receiver() as receiver:
            receiver.answers = [500, 200]
            endpoint = Endpoint.objects.create(user=user, url=receiver.url, events=["transcription.completed"])
            receiver.secret = endpoint.secret
            audio = make_audio_file(user, speech_wav)
            with sending_to(BROKER_URL, queue):
                response = api_client.post(URL, {"audio_file": str(audio.pk)}, format="json")
            job = wait_for(response.json()["id"], "completed", "failed", worker=worker)
            deadline = time.monotonic() + 30
            while len(receiver.received) < 2 and time.monotonic() < deadline:
                time.sleep(0.2)
    finally:
        worker.stop()

    assert job.status == "completed", job.error
    first, second = receiver.received[:2]
    assert first.verified and second.verified, worker.log
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert second.verified["data"]["id"] == str(job.pk)
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 2, 200)
