"""AUDIO_DELETE_AFTER_TRANSCRIPTION: a job's original audio is gone from the storage once the job
completes or fails, while its transcript and its redacted copy of the audio stay."""

from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command

from audio.models import AudioFile, PendingFileDeletion
from tests.transcriptions.conftest import set_wallet
from tests.transcriptions.fake_openai import Reply, Request
from tests.transcriptions.test_redaction import phone_call_reply
from transcriptions.models import Transcription
from wallet.models import Hold, Wallet

URL = "/api/transcriptions/"
pytestmark = pytest.mark.django_db(transaction=True)


def refused(request: Request) -> Reply:
    return Reply(status=400, body={"error": {"message": "Audio file is corrupted.", "type": "invalid_request_error"}})


def on_disk(audio: AudioFile) -> Path:
    return Path(default_storage.path(str(audio.file.name)))


def assert_ledger_clean(user) -> None:
    wallet = Wallet.objects.get(user=user)
    assert (wallet.held, wallet.demo_minutes_held) == (0, 0)
    call_command("audit_ledger")  # raises on any mismatch
    assert not PendingFileDeletion.objects.exists()  # every deletion the storage was asked for happened


def test_the_original_is_gone_after_completion_and_the_text_and_redacted_copy_stay(
    api_client, user, make_audio_file, speech_wav, fake_openai, settings
):
    settings.AUDIO_DELETE_AFTER_TRANSCRIPTION = True
    fake_openai.respond = phone_call_reply
    set_wallet(user, balance=Decimal("10.00"), demo_minutes=Decimal("0"))
    audio = make_audio_file(user, speech_wav, "call.wav")
    assert on_disk(audio).exists()

    body = {"audio_file": str(audio.pk), "redact_pii": True, "redact_pii_audio": True}
    job = api_client.post(URL, body, format="json").json()

    assert job["status"] == "completed"
    assert not on_disk(audio).exists()
    assert not AudioFile.objects.filter(pk=audio.pk).exists()
    shown = api_client.get(f"{URL}{job['id']}/").json()
    assert (shown["audio_file"], shown["audio_filename"]) == (None, "call.wav")
    assert Decimal(shown["audio_duration_seconds"]) == audio.duration_seconds
    download = api_client.get(f"{URL}{job['id']}/download/")
    assert download.status_code == 200
    assert download.content.decode().startswith("Call me on [PHONE_NUMBER]")
    redacted = api_client.get(f"{URL}{job['id']}/redacted_audio/")
    assert redacted.status_code == 200 and b"".join(redacted.streaming_content).startswith(b"fLaC")
    assert Hold.objects.get(subject_id=job["id"]).status == Hold.Status.CAPTURED
    assert_ledger_clean(user)


def test_the_original_is_gone_after_a_failure_and_nothing_is_charged(
    api_client, user, make_audio_file, speech_wav, fake_openai, settings
):
    settings.AUDIO_DELETE_AFTER_TRANSCRIPTION = True
    fake_openai.respond = refused
    set_wallet(user, balance=Decimal("10.00"), demo_minutes=Decimal("0"))
    audio = make_audio_file(user, speech_wav, "call.wav")

    response = api_client.post(URL, {"audio_file": str(audio.pk)}, format="json")

    assert response.status_code == 422  # the job failed while the request waited
    job = Transcription.objects.get(user=user)
    assert job.status == "failed"
    assert not on_disk(audio).exists()
    assert not AudioFile.objects.filter(pk=audio.pk).exists()
    assert (job.audio_filename, job.audio_duration_seconds) == ("call.wav", audio.duration_seconds)
    assert Hold.objects.get(subject_id=job.pk).status == Hold.Status.RELEASED
    assert Wallet.objects.get(user=user).balance == Decimal("10.00")
    assert_ledger_clean(user)


@pytest.mark.parametrize("respond", [phone_call_reply, refused])
def test_with_the_setting_off_the_original_stays(
    api_client, user, make_audio_file, speech_wav, fake_openai, settings, respond
):
    assert settings.AUDIO_DELETE_AFTER_TRANSCRIPTION is False  # the default
    fake_openai.respond = respond
    audio = make_audio_file(user, speech_wav, "call.wav")

    api_client.post(URL, {"audio_file": str(audio.pk), "redact_pii": True}, format="json")

    job = Transcription.objects.get(user=user)
    assert job.status == ("completed" if respond is phone_call_reply else "failed")
    assert on_disk(audio).exists()
    assert job.audio_file_id == audio.pk
    assert api_client.get(f"/api/audio/{audio.pk}/").status_code == 200
    assert_ledger_clean(user)


def test_in_a_bucket_the_original_object_goes_and_the_redacted_copy_stays(
    api_client, user, make_audio_file, speech_wav, fake_openai, settings, s3_storage
):
    settings.AUDIO_DELETE_AFTER_TRANSCRIPTION = True
    fake_openai.respond = phone_call_reply
    audio = make_audio_file(user, speech_wav, "call.wav")
    assert s3_storage.keys() == [audio.file.name]

    body = {"audio_file": str(audio.pk), "redact_pii": True, "redact_pii_audio": True}
    job = api_client.post(URL, body, format="json").json()

    assert job["status"] == "completed"
    assert s3_storage.keys() == [Transcription.objects.get(pk=job["id"]).redacted_audio]
    assert api_client.get(f"{URL}{job['id']}/redacted_audio/").status_code == 200
    assert_ledger_clean(user)
