"""Personal data redaction through /v1: our `redact_pii` fields beside OpenAI's (its SDKs send them
with `extra_body`), refused like any field when wrong; and the redacted copy of the audio, fetched
from /api/ with the same key by the job id every answer names."""

from decimal import Decimal

import httpx
import numpy as np
import openai
import pytest
from django.core.management import call_command

from accounts.services import api_key_create
from audio.models import AudioFile
from tests.openai_api.live import live_server
from tests.openai_api.test_sdk import token_of
from tests.redaction.test_audio import WINDOW, duration, samples, share_at_1khz, windows
from tests.transcriptions.conftest import set_wallet
from tests.transcriptions.fake_openai import FakeOpenAI, Reply, Request
from tests.transcriptions.test_redaction import phone_call_reply
from transcriptions.models import Transcription

URL = "/v1/audio/transcriptions"


def post(client, path, **fields):
    with path.open("rb") as file:
        return client.post(URL, {"file": file, "model": "whisper-1", **fields}, format="multipart")


@pytest.mark.django_db(transaction=True)
def test_redact_pii_through_v1_redacts_the_answer_and_the_stored_job(api_client, user, speech_wav, fake_openai):
    fake_openai.respond = phone_call_reply

    response = post(
        api_client,
        speech_wav,
        response_format="verbose_json",
        redact_pii="true",
        redact_pii_policies=["phone_number"],
        **{"timestamp_granularities[]": ["word"]},
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["text"] == "Call me on [PHONE_NUMBER], thanks."
    assert [word["word"] for word in body["words"]] == ["Call", "me", "on", "[PHONE_NUMBER]", "thanks"]
    job = Transcription.objects.get(user=user)
    assert (job.redact_pii, job.redact_pii_policies, job.redactions) == (True, ["phone_number"], {"phone_number": 1})
    assert "98450" not in str(job.segments) and "98450" not in job.text


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"redact_pii": "true", "redact_pii_policies": ["passport"]}, "redact_pii_policies[]"),
        ({"redact_pii_sub": "hash"}, "redact_pii_sub"),
        ({"redact_pii": "true", "redact_pii_sub": "stars"}, "redact_pii_sub"),
        ({"redact_pii_audio": "true"}, "redact_pii_audio"),
        ({"redact_pii": "true", "redact_pii_audio": "maybe"}, "redact_pii_audio"),
        ({"redact_pii": "true", "redact_pii_audio_method": "silence"}, "redact_pii_audio_method"),
        (
            {"redact_pii": "true", "redact_pii_audio": "true", "redact_pii_audio_method": "bleep"},
            "redact_pii_audio_method",
        ),
    ],
)
def test_a_bad_redaction_field_is_400_naming_it(api_client, user, speech_wav, fields, param):
    response = post(api_client, speech_wav, **fields)

    assert response.status_code == 400
    assert response.json()["error"]["param"] == param
    assert not Transcription.objects.exists() and not AudioFile.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_an_offline_translation_may_have_its_audio_redacted_as_on_the_api(api_client, user, speech_wav, tmp_path):
    # The offline engine translates with word timings (OpenAI's translations have none: below).
    with speech_wav.open("rb") as file:
        response = api_client.post(
            "/v1/audio/translations",
            {"file": file, "model": "whisper-1", "redact_pii": "true", "redact_pii_audio": "true"},
            format="multipart",
        )

    assert response.status_code == 200, response.content
    assert set(response.json()) == {"text", "usage"}  # the `json` asked for, words or not
    job = Transcription.objects.get(pk=response["X-Transcription-Id"])
    assert (job.task, job.engine, job.timestamps, job.redact_pii_audio_method) == ("translate", "local", "word", "beep")
    copy = api_client.get(f"/api/transcriptions/{job.pk}/redacted_audio/")
    assert copy.status_code == 200
    redacted = tmp_path / "redacted.flac"
    redacted.write_bytes(b"".join(copy.streaming_content))
    assert duration(redacted) == pytest.approx(duration(speech_wav), abs=0.001)


# --- /v1/audio/translations through the official SDK, our fields in its `extra_body` -----------

SPOKEN_IN_HINDI = " Call me on 98450 12345 or write to rahul.sharma@gmail.com, thanks."


def translated_call(request: Request) -> Reply:
    """What OpenAI's translations endpoint answers for a call in Hindi: English text and segments."""
    assert request.is_translation
    segment = {"id": 0, "start": 0.0, "end": 2.9, "text": SPOKEN_IN_HINDI}
    return Reply(
        body={"task": "translate", "language": "hindi", "duration": 2.9, "text": SPOKEN_IN_HINDI, "segments": [segment]}
    )


@pytest.fixture(scope="module")
def fake():
    with FakeOpenAI() as running:
        yield running


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker, tmp_path_factory, fake):
    with live_server(
        tmp_path_factory,
        django_db_blocker,
        TRANSCRIPTION_ENGINE="openai",
        OPENAI_API_KEY="sk-upstream",
        OPENAI_BASE_URL=fake.base_url,
        OPENAI_MAX_RETRIES="0",
    ) as running:
        yield running


@pytest.fixture
def sdk(server, user) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key=token_of(user))


@pytest.mark.django_db(transaction=True)
def test_translations_take_the_redaction_fields_through_the_sdks_extra_body(sdk, fake, user, speech_wav):
    fake.respond = translated_call
    set_wallet(user, balance=Decimal("1.00"), demo_minutes=Decimal("0.00"))

    result = sdk.audio.translations.create(
        file=speech_wav.open("rb"),
        model="whisper-1",
        response_format="verbose_json",
        extra_body={"redact_pii": True, "redact_pii_policies": ["phone_number"], "redact_pii_sub": "hash"},
    )

    assert result.text == "Call me on ##### ##### or write to rahul.sharma@gmail.com, thanks."
    assert [segment.text for segment in result.segments] == [result.text]
    job = Transcription.objects.get(user=user)
    assert (job.task, job.source, job.status) == ("translate", "openai", "completed")
    assert (job.redact_pii, job.redact_pii_policies, job.redact_pii_sub) == (True, ["phone_number"], "hash")
    assert job.redactions == {"phone_number": 1}
    assert "98450" not in job.text and "98450" not in str(job.segments)
    assert fake.requests[-1].path == "/v1/audio/translations"
    call_command("audit_ledger")  # raises on any mismatch


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("extra_body", "param"),
    [
        ({"redact_pii": True, "redact_pii_policies": ["passport"]}, "redact_pii_policies[]"),
        ({"redact_pii_sub": "hash"}, "redact_pii_sub"),
        ({"redact_pii_policies": ["phone_number"]}, "redact_pii_policies[]"),
        ({"redact_pii_audio": True}, "redact_pii_audio"),
        ({"redact_pii": True, "redact_pii_audio_method": "silence"}, "redact_pii_audio_method"),
    ],
)
def test_a_bad_redaction_field_on_translations_is_400_naming_it(sdk, user, speech_wav, extra_body, param):
    with pytest.raises(openai.BadRequestError) as refused:
        sdk.audio.translations.create(file=speech_wav.open("rb"), model="whisper-1", extra_body=extra_body)

    assert (refused.value.param, refused.value.code) == (param, "unsupported_value")
    assert not Transcription.objects.filter(user=user).exists()


# --- the redacted copy of the audio, through the official SDK ------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_sdk_gets_the_job_id_and_the_redacted_audio_with_the_same_key(server, fake, user, speech_wav, tmp_path):
    fake.respond = phone_call_reply  # the number said from 1.5 s to 2.4 s
    key = api_key_create(user=user, name="sdk").key
    sdk = openai.OpenAI(base_url=f"{server.url}/v1", api_key=key)

    raw = sdk.audio.transcriptions.with_raw_response.create(
        file=speech_wav.open("rb"),
        model="whisper-1",
        response_format="verbose_json",
        extra_body={"redact_pii": True, "redact_pii_audio": True},
    )

    result = raw.parse()
    assert result.text == "Call me on [PHONE_NUMBER], thanks."
    assert result.segments and result.words is None  # the segments asked for: the words were for the copy
    job = Transcription.objects.get(pk=raw.headers["X-Transcription-Id"], user=user)
    assert (job.timestamps, job.redact_pii_audio, job.redact_pii_audio_method) == ("word", True, "beep")
    assert fake.requests[-1].fields["timestamp_granularities[]"] == ["word", "segment"]  # asked of whisper-1
    copy = httpx.get(
        f"{server.url}/api/transcriptions/{job.pk}/redacted_audio/", headers={"Authorization": f"Bearer {key}"}
    )
    assert (copy.status_code, copy.headers["Content-Type"]) == (200, "audio/flac")
    redacted = tmp_path / "redacted.flac"
    redacted.write_bytes(copy.content)
    assert duration(redacted) == pytest.approx(duration(speech_wav), abs=0.001)
    original, rate = samples(speech_wav)
    output, _ = samples(redacted)
    for start, window in windows(rate, len(original)):
        if start >= 1.4 and start + WINDOW <= 2.5:  # the number, padded by 100 ms
            assert share_at_1khz(output[window, 0], rate) > 0.95, start
        elif start + WINDOW <= 1.38 or start >= 2.52:
            assert np.abs(output[window] - original[window]).max() < 1e-4, start
    call_command("audit_ledger")  # raises on any mismatch


@pytest.mark.django_db(transaction=True)
def test_an_openai_translation_cannot_have_its_audio_redacted_and_keeps_nothing(sdk, fake, user, speech_wav):
    # OpenAI's translations time segments, never words: no copy can be cut, so none is promised.
    requests = len(fake.requests)

    with pytest.raises(openai.BadRequestError) as refused:
        sdk.audio.translations.create(
            file=speech_wav.open("rb"), model="whisper-1", extra_body={"redact_pii": True, "redact_pii_audio": True}
        )

    assert (refused.value.param, refused.value.code) == ("redact_pii_audio", "unsupported_option")
    assert "word timings" in refused.value.message
    assert not Transcription.objects.filter(user=user).exists() and not AudioFile.objects.filter(user=user).exists()
    assert len(fake.requests) == requests
