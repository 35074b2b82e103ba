"""Personal data redaction through /v1: our `redact_pii` fields beside OpenAI's (its SDKs send them
with `extra_body`), refused like any field when wrong."""

import pytest

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
    ],
)
def test_a_bad_redaction_field_is_400_naming_it(api_client, user, speech_wav, fields, param):
    response = post(api_client, speech_wav, **fields)

    assert response.status_code == 400
    assert response.json()["error"]["param"] == param
    assert not Transcription.objects.exists()
