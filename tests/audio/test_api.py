import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.cache import cache
from rest_framework.throttling import ScopedRateThrottle

from audio.models import AudioFile
from audio.upload_handlers import AudioUploadHandler
from tests.audio.conftest import SUPPORTED_FORMATS, files_under, soxi_duration
from tests.factories import TranscriptionFactory
from transcriptions.models import Transcription
from wallet.selectors import wallet_get
from wallet.services import wallet_adjust

URL = "/api/audio/"
BOUNDARY = "audio-test-boundary"


def upload(client, content: bytes | Path, filename: str | bytes = "recording.mp3", content_type="audio/mpeg"):
    """POST a multipart body built by hand, so the file name reaches the server exactly as given."""
    if isinstance(content, Path):
        content = content.read_bytes()
    if isinstance(filename, str):
        filename = filename.encode()
    body = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="'.encode()
        + filename
        + f'"\r\nContent-Type: {content_type}\r\n\r\n'.encode()
        + content
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )
    return client.generic("POST", URL, body, content_type=f"multipart/form-data; boundary={BOUNDARY}")


def assert_nothing_left(user, settings):
    assert not AudioFile.objects.filter(user=user).exists()
    assert files_under(settings.MEDIA_ROOT) == []
    assert files_under(settings.FILE_UPLOAD_TEMP_DIR) == []


def make_transcription(audio_file: AudioFile, status: str, text: str = "") -> Transcription:
    return TranscriptionFactory(
        user=audio_file.user, audio_file=audio_file, billable_minutes=Decimal("0.02"), status=status, text=text
    )


# --- Upload -----------------------------------------------------------------------------------


def test_upload_stores_the_file_and_answers_with_its_duration_and_price(api_client, user, samples, settings):
    response = upload(api_client, samples.tone(120), filename="Interview.mp3")

    assert response.status_code == 201
    body = response.json()
    audio_file = AudioFile.objects.get(user=user)
    assert body == {
        "id": str(audio_file.id),
        "original_filename": "Interview.mp3",
        "format": "mp3",
        "size_bytes": samples.tone(120).stat().st_size,
        "duration_seconds": "120.000",
        "billable_minutes": "2.00",
        "estimated_cost": {"demo_minutes_used": "2.00", "charged_minutes": "0.00", "amount": "0.00"},
        "created_at": body["created_at"],
    }
    stored = Path(settings.MEDIA_ROOT) / f"audio_files/{user.id}/{audio_file.id}.mp3"
    assert audio_file.file.name == f"audio_files/{user.id}/{audio_file.id}.mp3"
    assert stored.read_bytes() == samples.tone(120).read_bytes()
    assert files_under(settings.FILE_UPLOAD_TEMP_DIR) == []


def test_price_uses_demo_minutes_first_then_the_rate(api_client, user, samples):
    response = upload(api_client, samples.tone(3599))

    assert response.status_code == 201
    # 3599 s is 59.983 minutes, rounded up to 59.99; 10 of them are demo minutes.
    assert response.json()["billable_minutes"] == "59.99"
    assert response.json()["estimated_cost"] == {
        "demo_minutes_used": "10.00",
        "charged_minutes": "49.99",
        "amount": "49.99",
    }


def test_price_follows_the_wallet_as_it_stands(api_client, user, samples):
    wallet_adjust(wallet_id=wallet_get(user=user).id, demo_minutes=Decimal("-9.50"), reason="test")

    response = upload(api_client, samples.tone(120))

    assert response.json()["estimated_cost"] == {
        "demo_minutes_used": "0.50",
        "charged_minutes": "1.50",
        "amount": "1.50",
    }


@pytest.mark.parametrize(
    ("ext", "expected_format"),
    SUPPORTED_FORMATS,
)
def test_each_supported_format_is_accepted_and_stored_under_its_own_extension(
    api_client, user, samples, settings, ext, expected_format
):
    response = upload(api_client, samples.tone(1, ext), filename=f"tone.{ext}")

    assert response.status_code == 201, response.json()
    assert response.json()["format"] == expected_format
    assert abs(Decimal(response.json()["duration_seconds"]) - 1) <= Decimal("0.1")
    [stored] = files_under(settings.MEDIA_ROOT)
    assert stored.name == f"{response.json()['id']}.{expected_format}"


def test_speech_is_measured_like_sox_measures_it(api_client, samples):
    response = upload(api_client, samples.speech("mp3"), filename="speech.mp3")

    assert response.status_code == 201
    assert abs(Decimal(response.json()["duration_seconds"]) - soxi_duration(samples.speech())) <= Decimal("0.1")


def test_format_comes_from_the_bytes_not_the_name_or_content_type(api_client, samples, settings):
    response = upload(api_client, samples.tone(1, "flac"), filename="song.mp3", content_type="image/png")

    assert response.status_code == 201
    assert response.json()["format"] == "flac"
    assert response.json()["original_filename"] == "song.mp3"
    assert files_under(settings.MEDIA_ROOT)[0].suffix == ".flac"


# --- Bad input: a clear error, nothing on disk, no row ------------------------------------------


@pytest.mark.parametrize(
    ("make", "filename", "status", "code"),
    [
        (lambda s: s.text(), "notes.mp3", 400, "unsupported_format"),
        (lambda s: s.png(), "photo.mp3", 400, "unsupported_format"),
        (lambda s: s.zip(), "archive.mp3", 400, "unsupported_format"),
        (lambda s: s.other_audio("aac"), "raw.mp3", 400, "unsupported_format"),
        (lambda s: s.video_only(), "clip.mp4", 400, "unsupported_format"),
        (lambda s: b"", "empty.mp3", 400, "empty_file"),
        (lambda s: s.truncated("mp3"), "cut.mp3", 400, "invalid_audio"),
        (lambda s: s.truncated("wav"), "cut.wav", 400, "invalid_audio"),
        (lambda s: s.corrupt_header("flac"), "broken.flac", 400, "invalid_audio"),
        (lambda s: s.silence_of_no_length(), "nothing.wav", 400, "invalid_audio"),
        (lambda s: s.tone(3601), "long.mp3", 400, "audio_too_long"),
    ],
    ids=[
        "text",
        "png",
        "zip",
        "raw-aac",
        "video-only",
        "empty",
        "truncated-mp3",
        "truncated-wav",
        "corrupt-header",
        "no-samples",
        "over-60-minutes",
    ],
)
def test_bad_uploads_are_refused_and_leave_nothing(api_client, user, samples, settings, make, filename, status, code):
    response = upload(api_client, make(samples), filename=filename)

    assert response.status_code == status
    assert response.json()["code"] == code
    assert response.json()["detail"]
    assert_nothing_left(user, settings)


def test_over_long_refusal_says_how_long_it_is(api_client, samples):
    response = upload(api_client, samples.tone(3601))

    assert response.json()["detail"] == "The recording is 60:01 long; the limit is 60 minutes."


def test_an_upload_over_the_size_limit_is_cut_off_with_413(api_client, user, samples, settings):
    settings.MAX_UPLOAD_MB = 1

    response = upload(api_client, samples.tone(120, "wav"))  # 3.8 MB

    assert response.status_code == 413
    assert response.json() == {"detail": "The file is larger than the 1 MB upload limit.", "code": "file_too_large"}
    assert_nothing_left(user, settings)
    # Reading stopped at the first chunk past the limit, not at the end of the 3.8 MB body.
    [handler] = response.wsgi_request.upload_handlers
    assert handler.received <= 1024 * 1024 + AudioUploadHandler.chunk_size


def test_a_file_just_under_the_size_limit_is_accepted(api_client, samples, settings):
    settings.MAX_UPLOAD_MB = 1

    response = upload(api_client, samples.tone(30, "wav"))  # 0.96 MB

    assert response.status_code == 201


@pytest.mark.parametrize(
    ("filename", "shown_as"),
    [
        ("../../../etc/passwd.mp3", "passwd.mp3"),
        ("..\\..\\windows\\system.ini.mp3", "system.ini.mp3"),
        (b"evil\x00name.mp3", "evilname.mp3"),
        ("r\u00e9sum\u00e9 \U0001f3a4.mp3", "r\u00e9sum\u00e9 \U0001f3a4.mp3"),
        ("x" * 900 + ".mp3", "x" * 251 + ".mp3"),
    ],
    ids=["path-traversal", "windows-path", "nul-byte", "unicode", "900-characters"],
)
def test_hostile_filenames_are_stored_under_a_uuid_and_shown_sanitised(
    api_client, user, samples, settings, filename, shown_as
):
    response = upload(api_client, samples.tone(1), filename=filename)

    assert response.status_code == 201
    assert response.json()["original_filename"] == shown_as
    audio_file = AudioFile.objects.get(user=user)
    assert files_under(settings.MEDIA_ROOT) == [
        Path(settings.MEDIA_ROOT) / f"audio_files/{user.id}/{audio_file.id}.mp3"
    ]


def test_a_10_kb_filename_is_stored_under_its_uuid_with_the_name_shortened(api_client, user, samples, settings):
    response = upload(api_client, samples.tone(1), filename="y" * 10_000 + ".mp3")

    assert response.status_code == 201
    assert response.json()["original_filename"] == "y" * 251 + ".mp3"
    audio_file = AudioFile.objects.get(user=user)
    assert files_under(settings.MEDIA_ROOT) == [
        Path(settings.MEDIA_ROOT) / f"audio_files/{user.id}/{audio_file.id}.mp3"
    ]


def test_missing_file_field_is_a_validation_error(api_client):
    response = api_client.post(URL, {"other": "value"}, format="multipart")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "file" in response.json()["errors"]


def test_json_body_is_refused(api_client):
    response = api_client.post(URL, {"file": "not a file"}, format="json")

    assert response.status_code == 415


def test_upload_needs_authentication(db, anon_client, samples, settings):
    response = upload(anon_client, samples.tone(1))

    assert response.status_code == 401
    assert files_under(settings.MEDIA_ROOT) == []
    assert not AudioFile.objects.exists()


def test_uploads_are_throttled_per_user(api_client, other_client, samples, monkeypatch):
    cache.clear()
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"upload": "2/min"})

    statuses = [upload(api_client, samples.tone(1)).status_code for _ in range(3)]

    assert statuses == [201, 201, 429]
    assert upload(api_client, samples.tone(1)).json()["code"] == "throttled"
    assert upload(other_client, samples.tone(1)).status_code == 201
    assert api_client.get(URL).status_code == 200


# --- List and detail ------------------------------------------------------------------------------


def test_list_shows_only_your_own_files_newest_first(api_client, other_client, samples):
    first = upload(api_client, samples.tone(1), filename="first.mp3").json()
    second = upload(api_client, samples.tone(120), filename="second.mp3").json()
    upload(other_client, samples.tone(1), filename="theirs.mp3")

    response = api_client.get(URL)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert body["next"] is None and body["previous"] is None
    assert [item["id"] for item in body["results"]] == [second["id"], first["id"]]
    assert body["results"][0]["estimated_cost"] == second["estimated_cost"]


def test_detail_of_your_own_file(api_client, samples):
    created = upload(api_client, samples.tone(1)).json()

    response = api_client.get(f"{URL}{created['id']}/")

    assert response.status_code == 200
    assert response.json() == created


def test_another_users_file_is_not_found(api_client, other_client, samples):
    theirs = upload(other_client, samples.tone(1)).json()

    assert api_client.get(f"{URL}{theirs['id']}/").status_code == 404
    assert api_client.get(f"{URL}{uuid.uuid4()}/").json() == {"detail": "Audio file not found.", "code": "not_found"}
    assert api_client.get(f"{URL}not-a-uuid/").status_code == 404


def test_listing_needs_authentication(anon_client):
    assert anon_client.get(URL).status_code == 401


# --- Delete ---------------------------------------------------------------------------------------


def test_delete_removes_the_row_and_the_file(api_client, user, samples, settings, django_capture_on_commit_callbacks):
    created = upload(api_client, samples.tone(1)).json()

    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.delete(f"{URL}{created['id']}/")

    assert response.status_code == 204
    assert_nothing_left(user, settings)


def test_deleting_another_users_file_is_not_found_and_keeps_it(api_client, other_client, other_user, samples, settings):
    theirs = upload(other_client, samples.tone(1)).json()

    response = api_client.delete(f"{URL}{theirs['id']}/")

    assert response.status_code == 404
    assert AudioFile.objects.filter(id=theirs["id"]).exists()
    assert len(files_under(settings.MEDIA_ROOT)) == 1


@pytest.mark.parametrize("status", [Transcription.Status.PENDING, Transcription.Status.PROCESSING])
def test_deleting_audio_being_transcribed_is_a_conflict(api_client, samples, settings, status):
    created = upload(api_client, samples.tone(1)).json()
    make_transcription(AudioFile.objects.get(id=created["id"]), status)

    response = api_client.delete(f"{URL}{created['id']}/")

    assert response.status_code == 409
    assert response.json()["code"] == "audio_in_use"
    assert AudioFile.objects.filter(id=created["id"]).exists()
    assert len(files_under(settings.MEDIA_ROOT)) == 1


@pytest.mark.parametrize("status", [Transcription.Status.COMPLETED, Transcription.Status.FAILED])
def test_finished_transcriptions_keep_their_text_when_the_audio_is_deleted(
    api_client, samples, status, django_capture_on_commit_callbacks
):
    created = upload(api_client, samples.tone(1)).json()
    transcription = make_transcription(AudioFile.objects.get(id=created["id"]), status, text="Hello there.")

    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.delete(f"{URL}{created['id']}/")

    assert response.status_code == 204
    transcription.refresh_from_db()
    assert transcription.audio_file is None
    assert transcription.text == "Hello there."
