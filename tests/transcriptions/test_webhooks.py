"""A job's end is told to the user's webhook endpoints and to the request's own `webhook_url`,
once its transaction commits: `transcription.completed` or `transcription.failed`."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.transcriptions.fake_openai import error
from tests.webhooks.receiver import Receiver
from transcriptions.models import Transcription
from transcriptions.services import transcription_create, transcription_reap
from webhooks.models import Delivery, Endpoint

pytestmark = pytest.mark.django_db(transaction=True)  # jobs run and webhooks go out after commit

URL = "/api/transcriptions/"


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


def test_a_completed_job_is_told_to_its_endpoint_and_its_webhook_url(
    api_client, user, make_audio_file, speech_wav, fake_openai, receiver
):
    endpoint = Endpoint.objects.create(user=user, url=receiver.url, events=["transcription.completed"])
    default_secret = api_client.get("/api/webhooks/signing_secret/").json()["secret"]
    audio = make_audio_file(user, speech_wav)
    own_url = receiver.url + "&job=mine"

    response = api_client.post(URL, {"audio_file": str(audio.pk), "webhook_url": own_url}, format="json")

    assert response.status_code == 201
    job = response.json()
    assert job["webhook_url"] == own_url
    by_path = {request.path: request for request in receiver.received}
    assert set(by_path) == {"/hooks?source=transcriber", "/hooks?source=transcriber&job=mine"}
    receiver.secret = endpoint.secret
    assert receiver._verify(by_path["/hooks?source=transcriber"].body, by_path["/hooks?source=transcriber"].headers)
    receiver.secret = default_secret
    event = receiver._verify(
        by_path["/hooks?source=transcriber&job=mine"].body, by_path["/hooks?source=transcriber&job=mine"].headers
    )
    assert event["type"] == "transcription.completed"
    assert event["data"]["id"] == job["id"]
    assert event["data"]["source"] == "api"
    assert (event["data"]["status"], event["data"]["amount"], event["data"]["error_code"]) == (
        "completed",
        job["amount"],
        "",
    )
    assert Delivery.objects.filter(status="delivered").count() == 2


def test_a_job_the_engine_fails_is_told_as_failed(api_client, user, make_audio_file, speech_wav, fake_openai, receiver):
    fake_openai.respond = lambda request: error(400, "Audio file is too short.")
    Endpoint.objects.create(user=user, url=receiver.url, events=["transcription.completed", "transcription.failed"])

    response = api_client.post(URL, {"audio_file": str(make_audio_file(user, speech_wav).pk)}, format="json")

    assert response.status_code == 422
    [event] = receiver.payloads()
    assert event["type"] == "transcription.failed"
    assert (event["data"]["status"], event["data"]["error_code"]) == ("failed", "transcription_rejected")


def test_a_job_the_reaper_fails_is_told_as_failed(user, make_audio_file, speech_wav, receiver, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "memory://"
    Endpoint.objects.create(user=user, url=receiver.url, events=["transcription.failed"])
    job, _ = transcription_create(user=user, audio_file_id=make_audio_file(user, speech_wav).pk)
    Transcription.objects.filter(pk=job.pk).update(requeues=1, deadline_at=timezone.now() - timedelta(seconds=1))
    settings.CELERY_TASK_ALWAYS_EAGER = True

    assert transcription_reap().failed == [job.pk]

    [event] = receiver.payloads()
    assert (event["type"], event["data"]["id"], event["data"]["error_code"]) == (
        "transcription.failed",
        str(job.pk),
        "transcription_not_started",
    )


def test_a_webhook_url_is_optional_and_shown_empty(api_client, user, make_audio_file, speech_wav, fake_openai):
    response = api_client.post(URL, {"audio_file": str(make_audio_file(user, speech_wav).pk)}, format="json")

    assert response.json()["webhook_url"] == ""
    assert not Delivery.objects.exists()
