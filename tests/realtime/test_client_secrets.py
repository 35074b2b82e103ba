"""`POST /v1/realtime/client_secrets`: a one-use secret for a browser's live session."""

import hashlib
import time

import pytest
from django.core.cache import cache

from accounts.services import api_key_create
from realtime.client_secrets import client_secret_issue, client_secret_redeem
from tests.conftest import client_for, key_client

pytestmark = pytest.mark.django_db
URL = "/v1/realtime/client_secrets"


def test_a_signed_in_user_gets_a_secret_that_expires_in_about_a_minute(user):
    answer = client_for(user).post(URL, {}, format="json")

    assert answer.status_code == 200
    body = answer.json()
    assert body["value"].startswith("ek_") and len(body["value"]) > 30
    assert 59 <= body["expires_at"] - time.time() <= 61
    assert body["session"]["type"] == "transcription"
    assert client_secret_redeem(value=body["value"]) == (user, None, None)


def test_an_api_key_may_ask_for_one_and_a_shorter_life_and_the_session_answers_to_that_key(user):
    issued = api_key_create(user=user, name="server")
    answer = key_client(issued.key).post(URL, {"expires_after": {"anchor": "created_at", "seconds": 10}}, format="json")

    assert answer.status_code == 200
    assert 9 <= answer.json()["expires_at"] - time.time() <= 11
    assert client_secret_redeem(value=answer.json()["value"]) == (user, issued.api_key.pk, None)


def test_without_credentials_it_is_401_in_openais_shape(anon_client):
    answer = anon_client.post(URL, {}, format="json")

    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "invalid_api_key"


def test_a_life_outside_10_to_60_seconds_is_refused(user):
    answer = client_for(user).post(URL, {"expires_after": {"seconds": 3600}}, format="json")

    assert answer.status_code == 400
    assert answer.json()["error"]["param"] == "expires_after.seconds"
    assert answer.json()["error"]["message"] == (
        "expires_after.seconds: Ensure this value is less than or equal to 60."
    )


def test_a_secret_opens_at_most_one_session_and_not_after_it_expires(user):
    value, _ = client_secret_issue(user=user, api_key_id=None, seconds=60)
    expired, _ = client_secret_issue(user=user, api_key_id=None, seconds=1)
    time.sleep(1.1)

    assert client_secret_redeem(value=value) == (user, None, None)
    assert client_secret_redeem(value=value) is None
    assert client_secret_redeem(value=expired) is None
    assert client_secret_redeem(value="sk-not-a-secret") is None


def test_the_settings_asked_with_a_secret_are_checked_and_kept_for_its_session(user):
    settings = {"type": "transcription", "audio": {"input": {"format": {"type": "audio/pcm", "rate": 16000}}}}
    settings["audio"]["input"]["transcription"] = {"language": "fr"}

    answer = client_for(user).post(URL, {"session": settings}, format="json")

    assert answer.status_code == 200
    session = answer.json()["session"]["audio"]["input"]
    assert (session["format"]["rate"], session["transcription"]["language"]) == (16000, "fr")
    assert client_secret_redeem(value=answer.json()["value"]).session == settings


@pytest.mark.parametrize(
    ("audio_input", "code", "param"),
    [
        ({"format": {"type": "audio/pcm", "rate": 8000}}, "unsupported_sample_rate", "session.audio.input.format.rate"),
        ({"format": {"type": "audio/mp3"}}, "unsupported_audio_format", "session.audio.input.format.type"),
    ],
)
def test_settings_a_session_would_refuse_are_400_and_no_secret(user, audio_input, code, param):
    answer = client_for(user).post(URL, {"session": {"audio": {"input": audio_input}}}, format="json")

    assert answer.status_code == 400
    assert (answer.json()["error"]["code"], answer.json()["error"]["param"]) == (code, param)


def test_a_secret_issued_by_the_previous_release_still_opens_its_session(user):
    cache.add("realtime-secret:" + hashlib.sha256(b"ek_from_before").hexdigest(), str(user.pk), timeout=60)

    assert client_secret_redeem(value="ek_from_before") == (user, None, None)
