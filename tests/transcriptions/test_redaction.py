"""Personal data redacted through the API: the OpenAI engine (a local fake) returns the redaction
corpus with word timings, and no surface (the job's JSON, every download, the CSV export, the webhook
and the user's data export) holds an identifier the redaction found; near-misses are kept whole."""

import json
import re
import subprocess
from decimal import Decimal

import pytest

from tests.redaction.corpus import NEAR_MISSES, SPOKEN, WRITTEN, Sample
from tests.transcriptions.conftest import set_wallet
from tests.transcriptions.fake_openai import Reply, Request
from tests.webhooks.receiver import Receiver
from transcriptions.models import Transcription
from webhooks.models import Endpoint

URL = "/api/transcriptions/"
SECONDS_A_WORD = 0.3
SAMPLES = [*WRITTEN, *SPOKEN, *NEAR_MISSES]


def corpus_reply(request: Request) -> Reply:
    """Each sentence a segment, its words as whisper-1 gives them: no spaces, no punctuation around."""
    segments, words, clock = [], [], 0.0
    for index, sample in enumerate(SAMPLES):
        start = clock
        for token in sample.text.split():
            word = token.strip(".,:;!?")
            if word:
                words.append({"word": word, "start": clock, "end": clock + SECONDS_A_WORD - 0.05})
                clock += SECONDS_A_WORD
        segments.append({"id": index, "start": start, "end": clock, "text": " " + sample.text})
    body = {
        "task": "transcribe",
        "language": "english",
        "duration": clock,
        "text": " ".join(sample.text for sample in SAMPLES),
        "segments": segments,
        "words": words,
    }
    return Reply(body=body)


def plain(text: str) -> str:
    """Without the punctuation that words lack and the texts have."""
    return " ".join(re.sub(r"[,.:;!?]+(\s|$)", r"\1", text).split())


def found(samples: list[Sample], segments: list[dict]) -> tuple[int, int, list[str]]:
    """(identifiers redacted whole in their sentence's segment, identifiers, those redacted)."""
    texts = {sample.text: segment["text"] for sample, segment in zip(SAMPLES, segments, strict=True)}
    gone = [
        identifier
        for sample in samples
        for _, identifier in sample.identifiers
        if identifier not in sample.missed(texts[sample.text])
    ]
    return len(gone), sum(len(sample.identifiers) for sample in samples), gone


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


@pytest.mark.django_db(transaction=True)
def test_the_corpus_through_the_api_leaves_no_identifier_on_any_surface(
    api_client, user, make_audio_file, speech_wav, fake_openai, receiver
):
    fake_openai.respond = corpus_reply
    set_wallet(user, balance=Decimal("10.00"), demo_minutes=Decimal("0"))
    Endpoint.objects.create(user=user, url=receiver.url, events=["transcription.completed"])
    audio = make_audio_file(user, speech_wav)

    response = api_client.post(
        URL, {"audio_file": str(audio.pk), "timestamps": "word", "redact_pii": True}, format="json"
    )

    assert response.status_code == 201
    job = response.json()
    assert (job["status"], job["redact_pii"], job["redact_pii_policies"], job["redact_pii_sub"]) == (
        "completed",
        True,
        [],
        "entity_name",
    )
    written, written_total, _ = found(WRITTEN, job["segments"])
    spoken, spoken_total, redacted_spoken = found(SPOKEN, job["segments"])
    print(f"\nthrough the API: written {written}/{written_total}, spoken {spoken}/{spoken_total}")
    assert written == written_total
    assert spoken / spoken_total >= 0.9
    for sample, segment in zip(SAMPLES, job["segments"], strict=True):
        if sample in NEAR_MISSES:
            assert segment["text"].strip() == sample.text
            assert sample.text in job["text"]
    assert set(job["redactions"]) == {
        "email_address",
        "phone_number",
        "aadhaar",
        "pan",
        "credit_card",
        "upi_id",
        "ip_address",
        "gstin",
    }
    assert all(count >= 2 for count in job["redactions"].values())  # each kind said at least twice

    gone = [identifier for sample in WRITTEN for _, identifier in sample.identifiers] + redacted_spoken
    assert len(gone) == written + spoken
    words = " ".join(word["word"] for segment in job["segments"] for word in segment["words"])
    surfaces = {
        "segment texts": " ".join(segment["text"] for segment in job["segments"]),
        "words": words,
        "detail": api_client.get(f"{URL}{job['id']}/").content.decode(),
        "csv": b"".join(api_client.get(f"{URL}export_csv/").streaming_content).decode(),
        "webhook": json.dumps(receiver.payloads()),
        "user export": api_client.get("/api/auth/user/export/").content.decode(),
    }
    for file_format in ("txt", "srt", "vtt", "json"):
        download = api_client.get(f"{URL}{job['id']}/download/", {"format": file_format})
        assert download.status_code == 200
        surfaces[file_format] = b"".join(download).decode() if not download.streaming else ""
    assert "[PHONE_NUMBER]" in surfaces["words"] and "[AADHAAR]" in surfaces["srt"]
    for name, surface in surfaces.items():
        assert [identifier for identifier in gone if plain(identifier) in plain(surface)] == [], name
    stored = Transcription.objects.get(pk=job["id"])
    assert [identifier for identifier in gone if plain(identifier) in plain(json.dumps(stored.segments))] == []


@pytest.mark.django_db(transaction=True)
def test_only_the_kinds_asked_for_are_redacted_and_hash_keeps_lengths(
    api_client, user, make_audio_file, speech_wav, fake_openai
):
    fake_openai.respond = corpus_reply
    set_wallet(user, balance=Decimal("10.00"), demo_minutes=Decimal("0"))
    body = {
        "audio_file": str(make_audio_file(user, speech_wav).pk),
        "redact_pii": True,
        "redact_pii_policies": ["aadhaar", "pan"],
        "redact_pii_sub": "hash",
    }

    job = api_client.post(URL, body, format="json").json()

    # Two PANs, and the one spelled inside a GSTIN ("two seven A B C P E ..."): GSTINs were not asked for.
    assert job["redactions"] == {"aadhaar": 4, "pan": 3}
    assert "My Aadhaar number is #### #### ####." in job["text"]  # spaces kept, as said
    assert "My PAN is ##########." in job["text"]
    assert "98450 12345" in job["text"]  # phone numbers were not asked for
    assert "[" not in job["text"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"redact_pii": True, "redact_pii_policies": ["passport"]}, "redact_pii_policies", "'passport'"),
        ({"redact_pii": True, "redact_pii_sub": "stars"}, "redact_pii_sub", '"stars"'),
        ({"redact_pii_policies": ["pan"]}, "redact_pii_policies", "redact_pii"),
        ({"redact_pii": True, "redact_pii_policies": []}, "redact_pii_policies", ""),
    ],
)
def test_a_bad_redaction_option_is_400_naming_it(api_client, user, make_audio_file, speech_wav, body, field, message):
    response = api_client.post(URL, {"audio_file": str(make_audio_file(user, speech_wav).pk), **body}, format="json")

    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert message in " ".join(response.json()["errors"][field])
    assert not Transcription.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_without_redact_pii_nothing_is_redacted_and_redactions_is_null(
    api_client, user, make_audio_file, speech_wav, fake_openai
):
    fake_openai.respond = corpus_reply
    set_wallet(user, balance=Decimal("10.00"), demo_minutes=Decimal("0"))

    job = api_client.post(URL, {"audio_file": str(make_audio_file(user, speech_wav).pk)}, format="json").json()

    assert (job["redact_pii"], job["redact_pii_sub"], job["redactions"]) == (False, "", None)
    assert "98450 12345" in job["text"] and "ABCPE1234F" in job["text"]


# Said by espeak-ng (en-us, 130 words a minute), heard by the offline engine as "... on 7012345678.
# My email is Rahul at Yahoo.com. ...": the number as digits, the address half written.
CALL = (
    "Please call me on seven zero one two three, four five six seven eight. My email is rahul at yahoo dot com. Thanks."
)


@pytest.mark.django_db(transaction=True)
def test_the_offline_engine_on_speech_saying_a_phone_number_and_an_address_redacts_both(
    api_client, user, make_audio_file, tmp_path
):
    speech = tmp_path / "call.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "130", "-w", str(speech), CALL], check=True)
    body = {"audio_file": str(make_audio_file(user, speech).pk), "timestamps": "word", "redact_pii": True}

    job = api_client.post(URL, body, format="json").json()

    assert (job["status"], job["engine"]) == ("completed", "local")
    assert (job["redactions"]["phone_number"], job["redactions"]["email_address"]) == (1, 1), job["text"]
    words = " ".join(word["word"] for segment in job["segments"] for word in segment["words"])
    for surface in (job["text"], words):
        assert "[PHONE_NUMBER]" in surface and "[EMAIL_ADDRESS]" in surface
        assert not re.search(r"\d|yahoo", surface, re.IGNORECASE), surface
