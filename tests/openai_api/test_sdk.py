"""`/v1` with the official `openai` SDK against a live server (runserver, the embedded default) whose
engine is OpenAI's API, here a local fake of it. The SDK sends `Authorization: Bearer <api_key>`:
most tests give it a JWT, one an API key (`sk-…`), which is what customers give it."""

import math
import time
from decimal import Decimal

import openai
import pytest
import requests
from django.core.management import call_command

from tests.factories import UserFactory
from tests.openai_api.live import live_server
from tests.transcriptions.conftest import set_wallet
from tests.transcriptions.fake_openai import FakeOpenAI, error, transcript
from tests.webhooks.receiver import Receiver
from transcriptions.models import Transcription
from wallet.models import Hold, Transaction, Wallet
from webhooks.models import Endpoint

pytestmark = pytest.mark.django_db(transaction=True)

TRANSCRIPTIONS = "/v1/audio/transcriptions"


@pytest.fixture(scope="module")
def fake():
    with FakeOpenAI() as running:
        yield running


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker, tmp_path_factory, fake):
    """One server for the module. Limits small enough to meet: 1 MB, 1 minute of audio, and 3
    transcription requests an hour per user (each test has its own user)."""
    with live_server(
        tmp_path_factory,
        django_db_blocker,
        TRANSCRIPTION_ENGINE="openai",
        OPENAI_API_KEY="sk-upstream",
        OPENAI_BASE_URL=fake.base_url,
        OPENAI_MAX_RETRIES="0",
        MAX_UPLOAD_MB="1",
        MAX_AUDIO_MINUTES="1",
        THROTTLE_RATES="transcribe=3/hour",
    ) as running:
        yield running


@pytest.fixture(autouse=True)
def fake_as_usual(fake):
    fake.respond, fake.latency = transcript, 0.0
    fake.requests.clear()
    yield


@pytest.fixture
def user():
    return UserFactory()


def token_of(user) -> str:
    from accounts.services import user_issue_tokens

    return user_issue_tokens(user=user)["access"]


@pytest.fixture
def client(server, user) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key=token_of(user))


def api_get(server, user, path: str) -> dict:
    response = requests.get(f"{server.url}{path}", headers={"Authorization": f"Bearer {token_of(user)}"}, timeout=30)
    response.raise_for_status()
    return response.json()


def assert_ledger_clean() -> None:
    call_command("audit_ledger")  # raises CommandError on a mismatch


# --- Models -----------------------------------------------------------------------------------


def test_the_sdk_lists_and_retrieves_models(client):
    listed = [model.id for model in client.models.list()]
    one = client.models.retrieve("gpt-4o-transcribe-diarize")

    assert listed == ["whisper-1", "gpt-4o-transcribe", "gpt-4o-mini-transcribe", "gpt-4o-transcribe-diarize"]
    assert (one.id, one.object, one.owned_by) == ("gpt-4o-transcribe-diarize", "model", "openai")
    with pytest.raises(openai.NotFoundError) as missing:
        client.models.retrieve("whisper-base")  # the offline model: not on this engine
    assert missing.value.code == "model_not_found"


# --- Each response format ---------------------------------------------------------------------


def test_json_is_a_paid_job_listed_with_source_openai_and_told_to_webhooks(client, server, user, speech_wav, fake):
    set_wallet(user, balance=Decimal("1.00"), demo_minutes=Decimal("0.05"))
    with Receiver() as receiver:
        Endpoint.objects.create(user=user, url=receiver.url, events=["transcription.completed"])

        result = client.audio.transcriptions.create(file=speech_wav.open("rb"), model="whisper-1", language="en")

        job = Transcription.objects.get(user=user)
        deadline = time.monotonic() + 10
        while not receiver.received and time.monotonic() < deadline:  # sent once the job's commit is done
            time.sleep(0.1)

    assert result.text == "First half of chunk-000.mp3. Second half of chunk-000.mp3."
    assert (result.usage.type, result.usage.seconds) == ("duration", math.ceil(job.audio_duration_seconds))
    assert (job.status, job.source, job.engine, job.model) == ("completed", "openai", "openai", "whisper-1")
    assert fake.requests[0].field("language") == "en"
    # Billed like any job: the demo minutes first, the rest from the balance, one ledger line.
    assert (job.demo_minutes_used, job.charged_minutes, job.amount) == (
        Decimal("0.05"),
        job.billable_minutes - Decimal("0.05"),
        job.billable_minutes - Decimal("0.05"),
    )
    wallet = api_get(server, user, "/api/wallet/details/")
    assert (wallet["demo_minutes_remaining"], wallet["balance"], wallet["held"]) == (
        "0.00",
        str(Decimal("1.00") - job.amount),
        "0.00",
    )
    [line] = Transaction.objects.filter(subject_id=job.pk)
    assert (line.type, line.amount, line.demo_minutes) == ("debit", -job.amount, -job.demo_minutes_used)
    assert_ledger_clean()
    listed = api_get(server, user, "/api/transcriptions/")["results"]
    assert [(item["id"], item["source"], item["status"]) for item in listed] == [(str(job.pk), "openai", "completed")]
    [event] = receiver.payloads()
    assert (event["type"], event["data"]["id"], event["data"]["source"]) == (
        "transcription.completed",
        str(job.pk),
        "openai",
    )


@pytest.mark.parametrize(
    ("response_format", "expected"),
    [
        ("text", "First half of chunk-000.mp3. Second half of chunk-000.mp3.\n"),
        ("srt", "1\n00:00:00,000 --> 00:00:0"),
        ("vtt", "WEBVTT\n\n00:00:00.000 --> 00:00:0"),
    ],
)
def test_text_and_subtitles_are_plain_text(client, speech_wav, response_format, expected):
    raw = client.audio.transcriptions.with_raw_response.create(
        file=speech_wav.open("rb"), model="whisper-1", response_format=response_format
    )
    body = raw.parse()

    assert isinstance(body, str)
    assert body.startswith(expected)
    assert raw.headers["content-type"] == "text/plain; charset=utf-8"
    assert "Second half of chunk-000.mp3." in body


def test_verbose_json_has_segments_and_words(client, user, speech_wav, fake):
    result = client.audio.transcriptions.create(
        file=speech_wav.open("rb"),
        model="whisper-1",
        response_format="verbose_json",
        timestamp_granularities=["word", "segment"],
    )

    job = Transcription.objects.get(user=user)
    # The language whisper-1 named ("english"), as the job records it.
    assert (result.task, result.language, result.duration) == ("transcribe", "en", float(job.audio_duration_seconds))
    assert [(segment.id, segment.text) for segment in result.segments] == [
        (0, "First half of chunk-000.mp3."),
        (1, "Second half of chunk-000.mp3."),
    ]
    assert [word.word for word in result.words][:3] == ["First", "half", "of"]
    assert result.words[0].start == 0.0 and result.words[-1].end == pytest.approx(result.duration, abs=0.2)
    assert fake.requests[0].fields["timestamp_granularities[]"] == ["word", "segment"]  # words asked upstream


@pytest.mark.parametrize("model", ["gpt-4o-transcribe-diarize", "whisper-1"])
def test_diarized_json_labels_speakers(client, speech_wav, fake, model):
    result = client.audio.transcriptions.create(
        file=speech_wav.open("rb"), model=model, response_format="diarized_json"
    )

    assert [(segment.speaker, segment.id, segment.type) for segment in result.segments] == [
        ("A", "seg_0", "transcript.text.segment"),
        ("B", "seg_1", "transcript.text.segment"),
    ]
    assert result.text == "A speaks in chunk-000.mp3. B speaks in chunk-000.mp3."
    assert fake.requests[0].field("model") == "gpt-4o-transcribe-diarize"


def test_a_named_openai_model_is_passed_through(client, user, speech_wav, fake):
    result = client.audio.transcriptions.create(file=speech_wav.open("rb"), model="gpt-4o-mini-transcribe")

    assert result.text == "Words of chunk-000.mp3."
    assert fake.requests[0].field("model") == "gpt-4o-mini-transcribe"
    assert Transcription.objects.get(user=user).model == "gpt-4o-mini-transcribe"


# --- Streaming --------------------------------------------------------------------------------


def test_a_stream_gives_deltas_then_the_whole_text_with_usage(client, user, speech_wav):
    events = list(client.audio.transcriptions.create(file=speech_wav.open("rb"), model="whisper-1", stream=True))

    assert [event.type for event in events] == ["transcript.text.delta"] * 2 + ["transcript.text.done"]
    assert [event.delta for event in events[:2]] == ["First half of chunk-000.mp3.", " Second half of chunk-000.mp3."]
    assert events[-1].text == "First half of chunk-000.mp3. Second half of chunk-000.mp3."
    seconds = math.ceil(Transcription.objects.get(user=user).audio_duration_seconds)
    assert events[-1].to_dict()["usage"] == {"type": "duration", "seconds": seconds}


def test_a_client_that_goes_away_neither_stops_nor_doubles_its_job(server, user, speech_wav, fake):
    fake.latency = 3.0  # the engine takes a while: the client gives up first
    impatient = openai.OpenAI(base_url=f"{server.url}/v1", api_key=token_of(user), timeout=1.0, max_retries=0)

    with pytest.raises(openai.APITimeoutError):
        list(impatient.audio.transcriptions.create(file=speech_wav.open("rb"), model="whisper-1", stream=True))

    deadline = time.monotonic() + 30
    while (job := Transcription.objects.get(user=user)).status != "completed" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert job.status == "completed"
    assert len(fake.requests) == 1
    assert Transaction.objects.filter(subject_id=job.pk).count() == 1
    assert Hold.objects.get(subject_id=job.pk).status == Hold.Status.CAPTURED
    assert_ledger_clean()


# --- Idempotency ------------------------------------------------------------------------------


def test_a_retry_with_the_same_idempotency_key_is_answered_from_the_first_job(client, user, speech_wav, fake):
    headers = {"Idempotency-Key": "upload-7"}
    first = client.audio.transcriptions.create(file=speech_wav.open("rb"), model="whisper-1", extra_headers=headers)
    again = client.audio.transcriptions.create(file=speech_wav.open("rb"), model="whisper-1", extra_headers=headers)

    assert again.text == first.text
    assert Transcription.objects.filter(user=user).count() == 1
    assert len(fake.requests) == 1


# --- Translations -------------------------------------------------------------------------------


def test_the_sdk_translates_through_openais_translations_endpoint_billed_like_a_transcription(
    client, user, speech_wav, fake
):
    set_wallet(user, balance=Decimal("1.00"), demo_minutes=Decimal("0.00"))
    headers = {"Idempotency-Key": "translate-7"}

    result = client.audio.translations.create(
        file=speech_wav.open("rb"), model="whisper-1", response_format="verbose_json", extra_headers=headers
    )
    again = client.audio.translations.create(
        file=speech_wav.open("rb"), model="whisper-1", response_format="verbose_json", extra_headers=headers
    )
    subtitles = client.audio.translations.create(file=speech_wav.open("rb"), model="whisper-1", response_format="srt")

    assert (result.task, result.text) == ("translate", "English words of chunk-000.mp3.")
    assert [segment.text for segment in result.segments] == ["English words of chunk-000.mp3."]
    assert (again.task, again.text) == (result.task, result.text)
    assert subtitles.startswith("1\n00:00:00,000 --> ") and "English words of chunk-000.mp3." in subtitles
    jobs = list(Transcription.objects.filter(user=user).order_by("created_at"))
    assert len(jobs) == 2  # the repeated key made no second job
    assert {(job.task, job.source, job.model, job.status) for job in jobs} == {
        ("translate", "openai", "whisper-1", "completed")
    }
    assert [(request.path, request.field("model")) for request in fake.requests] == [
        ("/v1/audio/translations", "whisper-1"),
        ("/v1/audio/translations", "whisper-1"),
    ]
    assert [request.field("response_format") for request in fake.requests] == ["verbose_json", "verbose_json"]
    for job in jobs:
        [line] = Transaction.objects.filter(subject_id=job.pk)
        assert (line.type, line.amount, job.amount) == ("debit", -job.billable_minutes, job.billable_minutes)
    assert_ledger_clean()


def test_the_sdks_prompt_and_keywords_are_the_jobs_custom_vocabulary_sent_upstream(client, user, speech_wav, fake):
    result = client.audio.transcriptions.create(
        file=speech_wav.open("rb"), model="whisper-1", prompt="A refund call.", keywords=["Razorpay", "Kozhikode"]
    )

    job = Transcription.objects.get(user=user)
    assert result.text == job.text
    assert (job.keywords, job.prompt) == (["Razorpay", "Kozhikode"], "A refund call.")
    assert fake.requests[0].field("prompt") == "A refund call. Razorpay, Kozhikode."


# --- Errors, as the SDK raises them -----------------------------------------------------------


def test_an_api_key_is_the_sdks_key_until_it_is_revoked(server, user, speech_wav):
    from accounts.services import api_key_create, api_key_revoke

    issued = api_key_create(user=user, name="transcriber")
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key=issued.key, max_retries=0)

    result = client.audio.transcriptions.create(file=speech_wav.open("rb"), model="whisper-1")
    api_key_revoke(api_key=issued.api_key)
    with pytest.raises(openai.AuthenticationError) as refused:
        client.models.list()

    assert result.text == "First half of chunk-000.mp3. Second half of chunk-000.mp3."
    assert Transcription.objects.get(user=user).source == "openai"
    assert refused.value.code == "invalid_api_key"


def test_a_bad_key_is_an_authentication_error(server):
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="sk-not-ours")

    with pytest.raises(openai.AuthenticationError) as refused:
        client.models.list()

    assert (refused.value.code, refused.value.type) == ("invalid_api_key", "invalid_request_error")


@pytest.mark.parametrize(
    ("options", "param", "code"),
    [
        ({"model": ""}, "model", "missing_required_parameter"),
        ({"model": "whisper-1", "include": ["logprobs"]}, "include[]", "unsupported_parameter"),
        ({"model": "whisper-1", "temperature": 0.7}, "temperature", "unsupported_value"),
        ({"model": "whisper-1", "extra_body": {"speed": "fast"}}, "speed", "unknown_parameter"),
        ({"model": "gpt-4o-transcribe", "response_format": "verbose_json"}, "response_format", "unsupported_parameter"),
    ],
)
def test_a_field_that_cannot_be_served_is_a_bad_request_naming_it(client, user, speech_wav, options, param, code):
    with pytest.raises(openai.BadRequestError) as refused:
        client.audio.transcriptions.create(file=speech_wav.open("rb"), **options)

    assert (refused.value.param, refused.value.code) == (param, code)
    assert not Transcription.objects.filter(user=user).exists()


def test_a_file_that_is_not_audio_is_a_bad_request_and_leaves_nothing(client, user, tmp_path):
    not_audio = tmp_path / "notes.mp3"
    not_audio.write_text("These are my notes, not a recording. " * 50)

    with pytest.raises(openai.BadRequestError) as refused:
        client.audio.transcriptions.create(file=not_audio.open("rb"), model="whisper-1")

    assert (refused.value.code, refused.value.param) == ("unsupported_format", "file")
    assert not user.audio_files.exists()


def test_audio_over_the_length_limit_is_a_bad_request(client, user, ninety_seconds_wav):
    with pytest.raises(openai.BadRequestError) as refused:
        client.audio.transcriptions.create(file=ninety_seconds_wav.open("rb"), model="whisper-1")

    assert refused.value.code == "audio_too_long"
    assert not user.audio_files.exists()


def test_a_file_over_the_size_limit_is_413(client, user, tmp_path):
    big = tmp_path / "big.wav"
    big.write_bytes(b"\0" * (1024 * 1024 + 1))

    with pytest.raises(openai.APIStatusError) as refused:
        client.audio.transcriptions.create(file=big.open("rb"), model="whisper-1")

    assert (refused.value.status_code, refused.value.code) == (413, "file_too_large")
    assert not user.audio_files.exists()


def test_an_unknown_model_is_not_found(client, speech_wav):
    with pytest.raises(openai.NotFoundError) as refused:
        client.audio.transcriptions.create(file=speech_wav.open("rb"), model="gpt-5-transcribe")

    assert (refused.value.code, refused.value.param) == ("model_not_found", "model")


def test_a_wallet_that_cannot_pay_is_insufficient_quota_and_the_sdk_does_not_retry(client, server, user, speech_wav):
    set_wallet(user, balance=Decimal("0.00"), demo_minutes=Decimal("0.00"))
    answered_before = len(server.answered("POST", TRANSCRIPTIONS))

    with pytest.raises(openai.RateLimitError) as refused:
        client.audio.transcriptions.create(file=speech_wav.open("rb"), model="whisper-1")

    assert (refused.value.code, refused.value.type) == ("insufficient_quota", "insufficient_quota")
    assert refused.value.response.headers["x-should-retry"] == "false"
    assert server.answered("POST", TRANSCRIPTIONS)[answered_before:] == [429]  # one request: no retry
    assert not Hold.objects.filter(wallet__user=user).exists()
    assert not user.audio_files.exists()
    wallet = Wallet.objects.get(user=user)
    assert (wallet.balance, wallet.held, wallet.demo_minutes_held) == (
        Decimal("0.00"),
        Decimal("0.00"),
        Decimal("0.00"),
    )


def test_past_the_rate_limit_is_rate_limit_exceeded_with_retry_after(server, user, speech_wav):
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key=token_of(user), max_retries=0)
    for _ in range(3):  # the hour's allowance, spent on requests refused early
        with pytest.raises(openai.BadRequestError):
            client.audio.transcriptions.create(file=speech_wav.open("rb"), model="")

    with pytest.raises(openai.RateLimitError) as refused:
        client.audio.transcriptions.create(file=speech_wav.open("rb"), model="whisper-1")

    assert (refused.value.code, refused.value.type) == ("rate_limit_exceeded", "requests")
    assert 0 < int(refused.value.response.headers["retry-after"]) <= 3600


@pytest.mark.parametrize("stream", [False, True])
def test_an_engine_that_is_down_is_a_server_error_and_charges_nothing(server, user, speech_wav, fake, stream):
    fake.respond = lambda request: error(500)
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key=token_of(user), max_retries=0)

    with pytest.raises(openai.InternalServerError) as refused:  # a stream too: the job failed before it began
        client.audio.transcriptions.create(file=speech_wav.open("rb"), model="whisper-1", stream=stream)

    job = Transcription.objects.get(user=user)
    assert (refused.value.status_code, refused.value.code) == (503, "transcription_engine_unavailable")
    assert refused.value.body["transcription_id"] == str(job.pk)
    assert job.status == "failed"
    assert not Transaction.objects.filter(subject_id=job.pk).exists()
    assert_ledger_clean()
