"""Personal data redacted through the API: the OpenAI engine (a local fake) returns the redaction
corpus with word timings, and no surface (the job's JSON, every download, the CSV export, the webhook
and the user's data export) holds an identifier the redaction found; near-misses are kept whole."""

import json
import re
import subprocess
from datetime import timedelta
from decimal import Decimal

import numpy as np
import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import OperationalError

from audio.models import PendingFileDeletion
from audio.services import audio_file_delete, audio_purge_expired
from tests.factories import TranscriptionFactory
from tests.redaction.corpus import NEAR_MISSES, SPOKEN, WRITTEN, Sample
from tests.redaction.test_audio import WINDOW, duration, samples, share_at_1khz, windows
from tests.transcriptions.conftest import set_wallet
from tests.transcriptions.fake_openai import Reply, Request
from tests.webhooks.receiver import Receiver
from transcriptions import services
from transcriptions.models import Transcription
from transcriptions.services import transcription_retry, transcription_run
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


# --- the redacted copy of the audio ----------------------------------------------------------

PHONE_CALL = [("Call", 0.0), ("me", 0.5), ("on", 1.0), ("98450", 1.5), ("12345,", 2.0), ("thanks.", 2.5)]


def phone_call_reply(request: Request) -> Reply:
    words = [{"word": word.strip(",."), "start": start, "end": start + 0.4} for word, start in PHONE_CALL]
    text = " ".join(word for word, _ in PHONE_CALL)
    segments = [{"id": 0, "start": 0.0, "end": 2.9, "text": " Call me on 98450 12345, thanks."}]
    return Reply(body={"task": "transcribe", "duration": 2.9, "text": text, "segments": segments, "words": words})


@pytest.fixture
def redacted_job(api_client, user, make_audio_file, speech_wav, fake_openai):
    fake_openai.respond = phone_call_reply
    audio = make_audio_file(user, speech_wav, "call.wav")
    body = {"audio_file": str(audio.pk), "redact_pii": True, "redact_pii_audio": True}
    response = api_client.post(URL, body, format="json")
    assert response.status_code == 201
    return response.json()


@pytest.mark.django_db(transaction=True)
def test_the_redacted_audio_is_as_long_as_the_original_with_a_beep_over_the_number(
    api_client, redacted_job, speech_wav, tmp_path
):
    job = redacted_job
    assert (job["timestamps"], job["redact_pii_audio_method"], job["redacted_audio"]) == ("word", "beep", True)
    assert job["redactions"]["phone_number"] == 1

    response = api_client.get(f"{URL}{job['id']}/redacted_audio/")

    assert response.status_code == 200
    assert response["Content-Type"] == "audio/flac"
    assert 'filename="call.redacted.flac"' in response["Content-Disposition"]
    redacted = tmp_path / "redacted.flac"
    redacted.write_bytes(b"".join(response.streaming_content))
    assert duration(redacted) == pytest.approx(duration(speech_wav), abs=0.001)
    original, rate = samples(speech_wav)
    output, _ = samples(redacted)
    # The number is said from 1.5 s to 2.4 s: padded, 1.4 s to 2.5 s.
    beeped = [start for start, _ in windows(rate, len(original)) if start >= 1.4 and start + WINDOW <= 2.5]
    kept = [start for start, _ in windows(rate, len(original)) if start + WINDOW <= 1.38 or start >= 2.52]
    assert len(beeped) >= 20 and len(kept) >= 40
    for start, window in windows(rate, len(original)):
        if start in beeped:
            assert share_at_1khz(output[window, 0], rate) > 0.95, start
        elif start in kept:
            assert np.abs(output[window] - original[window]).max() < 1e-4, start


@pytest.mark.django_db(transaction=True)
def test_the_redacted_audio_goes_with_the_job_and_by_retention_but_outlives_the_original(
    api_client, user, redacted_job, make_audio_file, speech_wav, settings
):
    stored = Transcription.objects.get(pk=redacted_job["id"]).redacted_audio
    assert stored.startswith(f"redacted_audio/{user.pk}/") and default_storage.exists(stored)

    assert api_client.delete(f"{URL}{redacted_job['id']}/").status_code == 204
    assert not default_storage.exists(stored)

    # Its user deleting the original audio leaves the redacted copy, which has a life of its own.
    second = api_client.post(
        URL,
        {"audio_file": str(make_audio_file(user, speech_wav).pk), "redact_pii": True, "redact_pii_audio": True},
        format="json",
    ).json()
    job = Transcription.objects.get(pk=second["id"])
    audio_file_delete(audio_file=job.audio_file)
    job.refresh_from_db()
    assert job.audio_file is None and default_storage.exists(job.redacted_audio)
    assert api_client.get(f"{URL}{job.pk}/redacted_audio/").status_code == 200

    # Retention takes it AUDIO_RETENTION_DAYS after it was made, in the purge that takes uploads.
    settings.AUDIO_RETENTION_DAYS = 30
    assert audio_purge_expired(now=job.completed_at + timedelta(days=29)).deleted == 0
    assert default_storage.exists(job.redacted_audio)
    audio_purge_expired(now=job.completed_at + timedelta(days=31))
    assert not default_storage.exists(job.redacted_audio)
    job.refresh_from_db()
    assert job.redacted_audio == "" and job.text  # the transcript stays
    assert api_client.get(f"{URL}{job.pk}/redacted_audio/").json()["code"] == "no_redacted_audio"
    assert not PendingFileDeletion.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_failed_commit_of_the_redacted_copy_leaves_no_copy_behind(
    api_client, user, make_audio_file, speech_wav, fake_openai, monkeypatch
):
    fake_openai.respond = phone_call_reply
    record_event = services._record_event
    failures = []

    def database_gone_once(transcription_id, event_type):
        if not failures:  # inside the transaction that records the copy, after the job's update
            failures.append(Transcription.objects.get(pk=transcription_id).redacted_audio)
            raise OperationalError("Lost connection to server during query")
        record_event(transcription_id, event_type)

    monkeypatch.setattr(services, "_record_event", database_gone_once)
    body = {"audio_file": str(make_audio_file(user, speech_wav).pk), "redact_pii": True, "redact_pii_audio": True}

    response = api_client.post(URL, body, format="json")

    assert response.status_code == 202, response.content  # the run failed; its task will retry
    job = Transcription.objects.get(user=user)
    [first] = failures
    assert (job.status, job.redacted_audio) == ("processing", "")
    assert first.startswith(f"redacted_audio/{user.pk}/") and not default_storage.exists(first)
    assert not PendingFileDeletion.objects.exists()

    transcription_run(transcription_id=job.pk, run_id=job.run_id)  # the task's retry, as a worker runs it

    job.refresh_from_db()
    assert job.status == "completed" and len(fake_openai.requests) == 2
    # One copy stored, the one the job records (under the first run's name, free again).
    _, stored = default_storage.listdir(f"redacted_audio/{user.pk}")
    assert [f"redacted_audio/{user.pk}/{name}" for name in stored] == [job.redacted_audio] == [first]
    assert api_client.get(f"{URL}{job.pk}/redacted_audio/").status_code == 200
    call_command("audit_ledger")  # raises on any mismatch


@pytest.mark.django_db(transaction=True)
def test_retrying_a_failed_redacted_job_redacts_again(api_client, user, make_audio_file, speech_wav, fake_openai):
    fake_openai.respond = lambda request: Reply(status=500, body={"error": {"message": "overloaded"}})
    body = {
        "audio_file": str(make_audio_file(user, speech_wav).pk),
        "redact_pii": True,
        "redact_pii_policies": ["phone_number"],
        "redact_pii_sub": "hash",
        "redact_pii_audio": True,
        "redact_pii_audio_method": "silence",
    }
    api_client.post(URL, body, format="json")
    failed = Transcription.objects.get(user=user)
    assert failed.status == "failed"
    fake_openai.respond = phone_call_reply

    retried = transcription_retry(transcription=failed)  # an operator's retry, from the admin

    retried.refresh_from_db()
    assert retried.status == "completed"
    assert (retried.redact_pii, retried.redact_pii_policies, retried.redact_pii_sub) == (True, ["phone_number"], "hash")
    assert (retried.redact_pii_audio, retried.redact_pii_audio_method) == (True, "silence")
    assert retried.redactions == {"phone_number": 1} and "98450" not in retried.text
    assert default_storage.exists(retried.redacted_audio)


@pytest.mark.django_db(transaction=True)
def test_silence_is_the_other_method_and_another_users_copy_is_404(
    api_client, other_client, user, make_audio_file, speech_wav, fake_openai, tmp_path
):
    fake_openai.respond = phone_call_reply
    body = {
        "audio_file": str(make_audio_file(user, speech_wav).pk),
        "redact_pii": True,
        "redact_pii_audio": True,
        "redact_pii_audio_method": "silence",
    }
    job = api_client.post(URL, body, format="json").json()

    assert other_client.get(f"{URL}{job['id']}/redacted_audio/").status_code == 404
    response = api_client.get(f"{URL}{job['id']}/redacted_audio/")
    redacted = tmp_path / "redacted.flac"
    redacted.write_bytes(b"".join(response.streaming_content))
    output, rate = samples(redacted)
    assert not output[round(1.4 * rate) : round(2.5 * rate)].any()
    original, _ = samples(speech_wav)
    assert np.abs(original[round(1.4 * rate) : round(2.5 * rate)]).max() > 0.05  # speech was there


@pytest.mark.django_db
def test_a_transcription_without_a_redacted_copy_has_none_to_give(api_client, user):
    job = TranscriptionFactory(user=user, status="completed")
    response = api_client.get(f"{URL}{job.pk}/redacted_audio/")
    assert (response.status_code, response.json()["code"]) == (404, "no_redacted_audio")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"redact_pii_audio": True}, "redact_pii_audio"),
        ({"redact_pii": True, "redact_pii_audio_method": "silence"}, "redact_pii_audio_method"),
        ({"redact_pii": True, "redact_pii_audio": True, "redact_pii_audio_method": "bleep"}, "redact_pii_audio_method"),
    ],
)
def test_a_bad_audio_redaction_option_is_400_naming_it(api_client, user, make_audio_file, speech_wav, body, field):
    response = api_client.post(URL, {"audio_file": str(make_audio_file(user, speech_wav).pk), **body}, format="json")

    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not Transcription.objects.exists()
