"""`/v1` through Django's test client: parsing, refusals and their OpenAI-shaped errors, and the
waiting for a worker's job. The live-server tests with the official SDK are in test_sdk*.py."""

import subprocess
import threading
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import close_old_connections
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from audio.models import AudioFile
from openai_api import sse
from tests.openai_api.conftest import files_under
from tests.transcriptions.conftest import set_wallet
from transcriptions import services
from transcriptions.models import Transcription
from transcriptions.tasks import transcribe
from wallet.models import Hold, Transaction

pytestmark = pytest.mark.django_db

URL = "/v1/audio/transcriptions"
# The embedded default runs a job right after its transaction commits: such tests are transactional.
committing = pytest.mark.django_db(transaction=True)


@pytest.fixture
def transcribe_request(api_client, django_capture_on_commit_callbacks):
    """POST to /v1/audio/transcriptions; what waits for a commit (a stored file's deletion) runs after it."""

    def send(path: Path | None, *, client: APIClient | None = None, headers=None, **fields):
        data = dict(fields)
        if path is not None:
            data["file"] = path.open("rb")
        try:
            with django_capture_on_commit_callbacks(execute=True):
                return (client or api_client).post(URL, data, format="multipart", headers=headers or {})
        finally:
            if path is not None:
                data["file"].close()

    return send


def openai_error(response) -> dict:
    body = response.json()
    assert set(body) == {"error"}
    assert {"message", "type", "param", "code"} <= set(body["error"])
    return body["error"]


def assert_nothing_left(user, media_root: Path) -> None:
    assert not AudioFile.objects.filter(user=user).exists()
    assert not Transcription.objects.filter(user=user).exists()
    assert not Hold.objects.filter(wallet__user=user).exists()
    assert files_under(media_root) == []


# --- Models -----------------------------------------------------------------------------------


def test_models_offline_are_whisper_1_and_the_installed_model(api_client, settings):
    settings.LOCAL_WHISPER_MODEL = "base"

    body = api_client.get("/v1/models").json()

    assert body["object"] == "list"
    assert [(model["id"], model["owned_by"]) for model in body["data"]] == [
        ("whisper-1", "local"),
        ("whisper-base", "local"),
    ]
    assert all(model["object"] == "model" and isinstance(model["created"], int) for model in body["data"])


def test_models_on_the_openai_engine_pass_openais_through(api_client, fake_openai):
    body = api_client.get("/v1/models").json()

    assert [(model["id"], model["owned_by"]) for model in body["data"]] == [
        ("whisper-1", "openai"),
        ("gpt-4o-transcribe", "openai"),
        ("gpt-4o-mini-transcribe", "openai"),
        ("gpt-4o-transcribe-diarize", "openai"),
    ]


def test_one_model_and_an_unknown_one(api_client):
    found = api_client.get("/v1/models/whisper-base")
    missing = api_client.get("/v1/models/gpt-4o-transcribe")  # the offline engine has no such model

    assert found.status_code == 200
    assert found.json() == {
        "id": "whisper-base",
        "object": "model",
        "created": found.json()["created"],
        "owned_by": "local",
    }
    assert missing.status_code == 404
    assert openai_error(missing)["code"] == "model_not_found"


# --- Authentication, URLs, query parameters -------------------------------------------------


@pytest.mark.parametrize("authorization", [None, "Bearer not-a-token", "Bearer sk-unknown"])
@pytest.mark.parametrize("method,url", [("get", "/v1/models"), ("post", URL), ("get", "/v1/models/whisper-1")])
def test_a_missing_or_bad_token_is_401_invalid_api_key(anon_client, authorization, method, url):
    headers = {"Authorization": authorization} if authorization else {}

    response = getattr(anon_client, method)(url, headers=headers)

    assert response.status_code == 401
    error = openai_error(response)
    assert (error["type"], error["code"], error["param"]) == ("invalid_request_error", "invalid_api_key", None)
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_api_errors_keep_their_own_shape(anon_client):
    response = anon_client.get("/api/transcriptions/")

    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided.", "code": "not_authenticated"}


@pytest.mark.parametrize("url", ["/v1/audio/speech", "/v1/nothing", "/v1/models/"])
def test_other_v1_urls_are_404_in_openais_shape(api_client, url):
    response = api_client.post(url)

    assert response.status_code == 404
    error = openai_error(response)
    assert error["code"] == "unknown_url"
    assert error["message"] == f"Invalid URL (POST {url})."


def test_a_query_parameter_is_refused_by_name(api_client):
    response = api_client.get("/v1/models?limit=10")

    assert response.status_code == 400
    assert (openai_error(response)["code"], openai_error(response)["param"]) == ("unknown_parameter", "limit")


# --- Refusals of the request ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "with_file", "param", "code"),
    [
        ({"model": "whisper-1"}, False, "file", "missing_required_parameter"),
        ({}, True, "model", "missing_required_parameter"),
        ({"model": ""}, True, "model", "missing_required_parameter"),
        ({"model": "whisper-1", "speed": "fast"}, True, "speed", "unknown_parameter"),
        ({"model": "whisper-1", "include[]": ["logprobs"]}, True, "include[]", "unsupported_parameter"),
        ({"model": "whisper-1", "keywords[]": ["Razorpay", ""]}, True, "keywords[]", "invalid_value"),
        ({"model": "whisper-1", "keywords": ["x" * 51]}, True, "keywords[]", "invalid_value"),
        ({"model": "whisper-1", "prompt": "x" * 1001}, True, "prompt", "invalid_value"),
        ({"model": "whisper-1", "prompt": ""}, True, None, None),
        ({"model": "whisper-1", "prompt": "Acme, Inc.", "keywords[]": ["Razorpay"]}, True, None, None),
        ({"model": "whisper-1", "temperature": "0.4"}, True, "temperature", "unsupported_value"),
        ({"model": "whisper-1", "temperature": "2"}, True, "temperature", "invalid_value"),
        ({"model": "whisper-1", "response_format": "xml"}, True, "response_format", "invalid_value"),
        ({"model": "whisper-1", "chunking_strategy": "none"}, True, "chunking_strategy", "unsupported_value"),
        (
            {"model": "whisper-1", "chunking_strategy[type]": "server_vad"},
            True,
            "chunking_strategy",
            "unsupported_value",
        ),
        (
            {"model": "whisper-1", "known_speaker_names[]": ["agent"]},
            True,
            "known_speaker_names[]",
            "unsupported_parameter",
        ),
        (
            {"model": "whisper-1", "timestamp_granularities[]": ["word"]},
            True,
            "timestamp_granularities[]",
            "unsupported_value",
        ),
        (
            {"model": "whisper-1", "timestamp_granularities[]": ["hour"], "response_format": "verbose_json"},
            True,
            "timestamp_granularities[]",
            "invalid_value",
        ),
        ({"model": "whisper-1", "stream": "true", "response_format": "srt"}, True, "stream", "unsupported_value"),
        ({"model": ["whisper-1", "whisper-base"]}, True, "model", "invalid_value"),
        ({"model": "gpt-4o-transcribe"}, True, "model", "model_not_found"),
        ({"model": "whisper-1", "language": "english"}, True, "language", "invalid_value"),
        ({"model": "whisper-1", "language": "xx"}, True, "language", "unsupported_language"),
        ({"model": "whisper-1", "response_format": "diarized_json"}, True, "response_format", "unsupported_option"),
    ],
)
def test_a_request_that_cannot_be_served_is_refused_naming_the_field_and_leaves_nothing(
    transcribe_request, user, speech_wav, media_root, fields, with_file, param, code
):
    set_wallet(user, balance=Decimal("0.00"), demo_minutes=Decimal("0.00"))  # served or not, nothing is paid for

    response = transcribe_request(speech_wav if with_file else None, **fields)

    if code is None:  # served: the request goes on (and meets the empty wallet)
        assert openai_error(response)["code"] == "insufficient_quota"
    else:
        assert response.status_code == (404 if code == "model_not_found" else 400), response.content
        error = openai_error(response)
        assert (error["param"], error["code"], error["type"]) == (param, code, "invalid_request_error")
    assert_nothing_left(user, media_root)


def test_a_model_without_timestamps_is_refused_formats_that_need_them(
    transcribe_request, user, speech_wav, fake_openai
):
    response = transcribe_request(speech_wav, model="gpt-4o-transcribe", response_format="srt")

    assert response.status_code == 400
    assert (openai_error(response)["param"], openai_error(response)["code"]) == (
        "response_format",
        "unsupported_parameter",
    )
    assert not fake_openai.requests


def test_json_is_415_in_openais_shape(api_client):
    response = api_client.post(URL, {"model": "whisper-1"}, format="json")

    assert response.status_code == 415
    assert openai_error(response)["code"] == "unsupported_media_type"


def test_not_audio_is_400_unsupported_format_and_leaves_nothing(transcribe_request, user, tmp_path, media_root):
    fake = tmp_path / "song.mp3"
    fake.write_bytes(b"<html>" + b"x" * 4000)

    response = transcribe_request(fake, model="whisper-1")

    assert response.status_code == 400
    assert (openai_error(response)["code"], openai_error(response)["param"]) == ("unsupported_format", "file")
    assert_nothing_left(user, media_root)


def test_audio_over_the_length_limit_is_400_audio_too_long(
    transcribe_request, user, ninety_seconds_wav, media_root, settings
):
    settings.MAX_AUDIO_MINUTES = 1

    response = transcribe_request(ninety_seconds_wav, model="whisper-1")

    assert response.status_code == 400
    assert openai_error(response)["code"] == "audio_too_long"
    assert_nothing_left(user, media_root)


def test_a_file_over_the_size_limit_is_413_and_leaves_nothing(transcribe_request, user, tmp_path, media_root, settings):
    settings.MAX_UPLOAD_MB = 1
    big = tmp_path / "big.wav"
    big.write_bytes(b"\0" * (1024 * 1024 + 1))

    response = transcribe_request(big, model="whisper-1")

    assert response.status_code == 413
    assert (openai_error(response)["code"], openai_error(response)["param"]) == ("file_too_large", "file")
    assert_nothing_left(user, media_root)
    assert files_under(settings.FILE_UPLOAD_TEMP_DIR) == []


def test_a_wallet_that_cannot_pay_is_429_insufficient_quota_not_to_be_retried(
    transcribe_request, user, ninety_seconds_wav, media_root
):
    set_wallet(user, balance=Decimal("0.49"), demo_minutes=Decimal("1.00"))  # 1.50 minutes cost ₹0.50

    response = transcribe_request(ninety_seconds_wav, model="whisper-1")

    assert response.status_code == 429
    error = openai_error(response)
    assert (error["type"], error["code"]) == ("insufficient_quota", "insufficient_quota")
    assert response["x-should-retry"] == "false"
    assert_nothing_left(user, media_root)
    assert user.wallet.held == Decimal("0.00")


def test_past_the_rate_limit_is_429_rate_limit_exceeded_with_retry_after(transcribe_request, user, monkeypatch):
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"transcribe": "2/min"})

    statuses = [transcribe_request(None, model="whisper-1").status_code for _ in range(3)]
    refused = transcribe_request(None, model="whisper-1")

    assert statuses == [400, 400, 429]
    error = openai_error(refused)
    assert (error["type"], error["code"]) == ("requests", "rate_limit_exceeded")
    assert 0 < int(refused["Retry-After"]) <= 60
    assert "x-should-retry" not in refused  # worth retrying, later


def test_a_bad_idempotency_key_is_refused(transcribe_request, speech_wav):
    response = transcribe_request(speech_wav, model="whisper-1", headers={"Idempotency-Key": "é"})

    assert response.status_code == 400
    assert openai_error(response)["param"] == "Idempotency-Key"


# --- Answers ----------------------------------------------------------------------------------


@committing
def test_a_transcription_is_a_paid_job_of_the_caller_listed_with_source_openai(
    transcribe_request, api_client, user, ninety_seconds_wav, fake_openai
):
    set_wallet(user, balance=Decimal("5.00"), demo_minutes=Decimal("1.00"))

    response = transcribe_request(ninety_seconds_wav, model="whisper-1", language="EN")

    assert response.status_code == 200, response.content
    assert response.json() == {
        "text": "First half of chunk-000.mp3. Second half of chunk-000.mp3.",
        "usage": {"type": "duration", "seconds": 90},
    }
    job = Transcription.objects.get(user=user)
    assert response["X-Transcription-Id"] == str(job.pk)
    assert (job.source, job.status, job.language, job.model) == ("openai", "completed", "en", "whisper-1")
    assert (job.demo_minutes_used, job.amount) == (Decimal("1.00"), Decimal("0.50"))
    assert Transaction.objects.filter(subject_id=job.pk).count() == 1
    listed = api_client.get("/api/transcriptions/").json()["results"]
    assert [(item["id"], item["source"]) for item in listed] == [(str(job.pk), "openai")]


@committing
def test_a_failed_job_is_answered_with_its_error_and_charges_nothing(transcribe_request, user, speech_wav, fake_openai):
    from tests.transcriptions.fake_openai import error as fake_error

    fake_openai.respond = lambda request: fake_error(400, "Audio file might be corrupted")

    response = transcribe_request(speech_wav, model="whisper-1")

    assert response.status_code == 422
    error = openai_error(response)
    assert error["code"] == "transcription_rejected"
    job = Transcription.objects.get(user=user)
    assert (error["transcription_id"], job.status) == (str(job.pk), "failed")
    assert not Transaction.objects.filter(subject_id=job.pk).exists()


@committing
def test_the_same_idempotency_key_answers_from_the_first_job(transcribe_request, user, speech_wav, fake_openai):
    first = transcribe_request(speech_wav, model="whisper-1", headers={"Idempotency-Key": "retry-1"})
    again = transcribe_request(
        speech_wav, model="whisper-1", response_format="text", headers={"Idempotency-Key": "retry-1"}
    )

    assert first.status_code == again.status_code == 200
    assert again.content.decode() == first.json()["text"] + "\n"
    assert Transcription.objects.filter(user=user).count() == AudioFile.objects.filter(user=user).count() == 1
    assert len(fake_openai.requests) == 1


@committing
@pytest.mark.parametrize("sent_again", ["another file", "a translation"])
def test_an_idempotency_key_sent_again_with_another_request_is_422(
    sent_again,
    transcribe_request,
    api_client,
    user,
    speech_wav,
    tmp_path,
    fake_openai,
    django_capture_on_commit_callbacks,
):
    first = transcribe_request(speech_wav, model="whisper-1", headers={"Idempotency-Key": "retry-2"})
    if sent_again == "another file":
        other = tmp_path / speech_wav.name  # the same name, one second shorter
        subprocess.run(["ffmpeg", "-v", "error", "-i", speech_wav, "-t", "1", other], check=True)
        again = transcribe_request(other, model="whisper-1", headers={"Idempotency-Key": "retry-2"})
    else:
        with speech_wav.open("rb") as audio, django_capture_on_commit_callbacks(execute=True):
            again = api_client.post(
                "/v1/audio/translations",
                {"file": audio, "model": "whisper-1"},
                format="multipart",
                headers={"Idempotency-Key": "retry-2"},
            )

    assert first.status_code == 200
    assert again.status_code == 422
    assert openai_error(again)["code"] == "idempotency_key_reused"
    assert "X-Transcription-Id" not in again
    assert Transcription.objects.filter(user=user).count() == AudioFile.objects.filter(user=user).count() == 1
    assert len(fake_openai.requests) == 1


@committing
def test_an_idempotency_key_is_the_callers_own(transcribe_request, user, other_user, speech_wav, fake_openai):
    from tests.conftest import client_for

    mine = transcribe_request(speech_wav, model="whisper-1", headers={"Idempotency-Key": "same"})
    theirs = transcribe_request(
        speech_wav, model="whisper-1", client=client_for(other_user), headers={"Idempotency-Key": "same"}
    )

    assert mine.status_code == theirs.status_code == 200
    assert mine["X-Transcription-Id"] != theirs["X-Transcription-Id"]
    assert Transcription.objects.get(pk=theirs["X-Transcription-Id"]).user == other_user


@committing
def test_an_idempotency_key_of_an_api_request_is_not_reused(
    transcribe_request, api_client, user, speech_wav, fake_openai
):
    audio = api_client.post("/api/audio/", {"file": speech_wav.open("rb")}, format="multipart").json()
    api_client.post(
        "/api/transcriptions/", {"audio_file": audio["id"]}, format="json", headers={"Idempotency-Key": "k"}
    )

    response = transcribe_request(speech_wav, model="whisper-1", headers={"Idempotency-Key": "k"})

    assert response.status_code == 422
    assert openai_error(response)["code"] == "idempotency_key_reused"


# --- Waiting for a worker -------------------------------------------------------------------


@pytest.fixture
def worker_later(monkeypatch):
    """Jobs go to a 'worker' that takes them up after `delay` seconds (a thread), instead of running
    in-process; `delay=None` means no worker ever comes."""
    state = {"delay": 0.8}

    def publish(transcription_id, *, limits):
        if state["delay"] is None:
            return

        def run():
            try:
                transcribe.apply(args=[str(transcription_id)])
            finally:
                close_old_connections()

        threading.Timer(state["delay"], run).start()

    monkeypatch.setattr(services, "_publish", publish)
    return state


@committing
def test_the_request_waits_for_a_workers_job(transcribe_request, user, speech_wav, fake_openai, worker_later):
    response = transcribe_request(speech_wav, model="whisper-1")

    assert response.status_code == 200, response.content
    assert "chunk-000.mp3" in response.json()["text"]
    assert Transcription.objects.get(user=user).status == "completed"


@committing
def test_a_job_that_outlives_the_wait_is_504_naming_it_and_goes_on(
    transcribe_request, user, speech_wav, fake_openai, worker_later, settings
):
    worker_later["delay"] = None
    settings.OPENAI_API_WAIT_SECONDS = 1

    response = transcribe_request(speech_wav, model="whisper-1")

    assert response.status_code == 504
    error = openai_error(response)
    job = Transcription.objects.get(user=user)
    assert (error["code"], error["type"], error["transcription_id"]) == (
        "transcription_still_running",
        "server_error",
        str(job.pk),
    )
    assert f"/api/transcriptions/{job.pk}/" in error["message"]
    assert response["x-should-retry"] == "false"
    assert job.status == "pending"  # still there for a worker, its cost held
    assert Hold.objects.get(subject_id=job.pk).status == Hold.Status.HELD


@committing
def test_a_stream_follows_a_workers_job_then_sends_the_text(
    transcribe_request, user, speech_wav, fake_openai, worker_later
):
    response = transcribe_request(speech_wav, model="whisper-1", stream="true")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/event-stream"
    raw = b"".join(response.streaming_content)
    events = sse.parse(raw)
    assert raw.startswith(b": pending 0%")
    assert [event["type"] for event in events] == ["transcript.text.delta"] * (len(events) - 1) + [
        "transcript.text.done"
    ]
    assert "".join(event["delta"] for event in events[:-1]) == events[-1]["text"]
    assert events[-1]["usage"]["type"] == "duration"


@committing
def test_a_stream_gives_each_segment_as_the_worker_decodes_it(
    transcribe_request, user, ninety_seconds_wav, fake_openai, worker_later, settings
):
    settings.TRANSCRIPTION_CHUNK_SECONDS, settings.TRANSCRIPTION_CONCURRENCY = 30, 1
    fake_openai.latency = 0.7  # a chunk, so the job runs for a few polls

    response = transcribe_request(ninety_seconds_wav, model="whisper-1", stream="true")

    blocks = [block for block in b"".join(response.streaming_content).split(b"\n\n") if block]
    first_delta = next(index for index, block in enumerate(blocks) if block.startswith(b"data:"))
    still_running = [block for block in blocks[first_delta:] if block.startswith(b": processing")]
    events = sse.parse(b"\n\n".join(blocks) + b"\n\n")
    job = Transcription.objects.get(user=user)
    assert len(fake_openai.requests) > 1  # chunks, cut at pauses
    assert still_running, blocks  # text came while the job was still processing
    assert [event["type"] for event in events] == ["transcript.text.delta"] * len(job.segments) + [
        "transcript.text.done"
    ]
    assert "".join(event["delta"] for event in events[:-1]) == events[-1]["text"] == job.text


@committing
def test_a_stream_whose_job_outlives_the_wait_ends_with_an_error_event(
    transcribe_request, user, speech_wav, fake_openai, worker_later, settings
):
    worker_later["delay"] = None
    settings.OPENAI_API_WAIT_SECONDS = 1

    response = transcribe_request(speech_wav, model="whisper-1", stream="true")

    [event] = sse.parse(b"".join(response.streaming_content))
    assert event["error"]["code"] == "transcription_still_running"
    assert event["error"]["transcription_id"] == str(Transcription.objects.get(user=user).pk)


# --- POST /v1/audio/translations ----------------------------------------------------------------

TRANSLATIONS = "/v1/audio/translations"


@committing
def test_a_translation_is_a_job_with_task_translate_answered_in_openais_shape(
    api_client, user, speech_wav, fake_openai, django_capture_on_commit_callbacks
):
    with speech_wav.open("rb") as file, django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(
            TRANSLATIONS, {"file": file, "model": "whisper-1", "response_format": "verbose_json"}, format="multipart"
        )

    assert response.status_code == 200, response.content
    body = response.json()
    job = Transcription.objects.get(user=user)
    assert response["X-Transcription-Id"] == str(job.pk)
    assert (body["task"], body["text"]) == ("translate", "English words of chunk-000.mp3.")
    assert [segment["text"] for segment in body["segments"]] == ["English words of chunk-000.mp3."]
    assert (job.task, job.source, job.status) == ("translate", "openai", "completed")
    [request] = fake_openai.requests
    assert request.path == TRANSLATIONS


@pytest.mark.parametrize(
    ("fields", "param", "code"),
    [
        ({"language": "fr"}, "language", "unknown_parameter"),  # OpenAI's translations take none
        ({"timestamp_granularities[]": "word"}, "timestamp_granularities[]", "unknown_parameter"),
        ({"stream": "true"}, "stream", "unknown_parameter"),
        ({"response_format": "diarized_json"}, "response_format", "invalid_value"),
        ({"model": ""}, "model", "missing_required_parameter"),
    ],
)
def test_a_translation_field_openai_does_not_have_or_a_bad_value_is_400_naming_it(
    api_client, user, speech_wav, media_root, fields, param, code
):
    with speech_wav.open("rb") as file:
        response = api_client.post(TRANSLATIONS, {"file": file, "model": "whisper-1", **fields}, format="multipart")

    assert response.status_code == 400
    error = openai_error(response)
    assert (error["param"], error["code"]) == (param, code)
    assert_nothing_left(user, media_root)


def test_a_translation_on_an_english_only_offline_model_is_400_and_leaves_nothing(
    api_client, user, speech_wav, media_root, settings, django_capture_on_commit_callbacks
):
    settings.LOCAL_WHISPER_MODEL = "tiny.en"

    with speech_wav.open("rb") as file, django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(TRANSLATIONS, {"file": file, "model": "whisper-1"}, format="multipart")

    assert response.status_code == 400
    error = openai_error(response)
    assert (error["code"], error["param"]) == ("unsupported_option", "model")
    assert_nothing_left(user, media_root)
