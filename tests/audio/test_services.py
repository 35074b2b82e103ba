import io
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files import File
from django.core.files.storage import FileSystemStorage
from django.core.management import call_command
from django.db import DatabaseError
from django.utils import timezone

from audio.exceptions import (
    AudioInUse,
    AudioTooLong,
    EmptyFile,
    FileTooLarge,
    InvalidAudio,
    StoredFileUnavailable,
    UnsupportedFormat,
)
from audio.models import AudioFile
from audio.services import audio_file_create, audio_file_delete, audio_purge_expired, display_filename
from audio.tasks import purge_expired
from tests.audio.conftest import files_under
from tests.factories import TranscriptionFactory
from transcriptions.models import Transcription


def create_from_path(user, path: Path, original_filename: str | None = None) -> AudioFile:
    """As a management command does: a local file opened from disk."""
    with open(path, "rb") as handle:
        return audio_file_create(user=user, file=File(handle), original_filename=original_filename or path.name)


def test_a_local_file_is_stored_measured_and_recorded(user, samples, settings):
    audio_file = create_from_path(user, samples.tone(120, "flac"), original_filename="meeting.flac")

    audio_file.refresh_from_db()
    assert audio_file.user == user
    assert audio_file.format == "flac"
    assert audio_file.duration_seconds == Decimal("120.000")
    assert audio_file.size_bytes == samples.tone(120, "flac").stat().st_size
    assert audio_file.original_filename == "meeting.flac"
    assert audio_file.file.name == f"audio_files/{user.id}/{audio_file.id}.flac"
    assert Path(audio_file.file.path).read_bytes() == samples.tone(120, "flac").read_bytes()
    assert files_under(settings.FILE_UPLOAD_TEMP_DIR) == []


@pytest.mark.parametrize(
    ("make", "error"),
    [
        (lambda s: s.text(), UnsupportedFormat),
        (lambda s: s.truncated("flac"), InvalidAudio),
        (lambda s: s.tone(3601), AudioTooLong),
    ],
)
def test_refused_local_files_leave_nothing(user, samples, settings, make, error):
    with pytest.raises(error):
        create_from_path(user, make(samples))

    assert not AudioFile.objects.exists()
    assert files_under(settings.MEDIA_ROOT) == []
    assert files_under(settings.FILE_UPLOAD_TEMP_DIR) == []


def test_an_empty_file_is_refused(user, tmp_path):
    empty = tmp_path / "empty.mp3"
    empty.touch()

    with pytest.raises(EmptyFile):
        create_from_path(user, empty)


def test_the_size_limit_applies_to_local_files_too(user, samples, settings):
    settings.MAX_UPLOAD_MB = 1

    with pytest.raises(FileTooLarge):
        create_from_path(user, samples.tone(120, "wav"))

    assert files_under(settings.MEDIA_ROOT) == []


def test_when_the_row_cannot_be_written_the_stored_file_is_removed(user, samples, settings, monkeypatch):
    def failing_save(*args, **kwargs):
        raise DatabaseError("database went away")

    monkeypatch.setattr(AudioFile, "save", failing_save)

    with pytest.raises(DatabaseError):
        create_from_path(user, samples.tone(1))

    assert files_under(settings.MEDIA_ROOT) == []


def test_when_the_file_cannot_be_stored_no_row_is_written(user, samples, settings, monkeypatch):
    def failing_save(self, name, content):
        Path(self.path(name)).parent.mkdir(parents=True, exist_ok=True)
        Path(self.path(name)).write_bytes(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(FileSystemStorage, "_save", failing_save)

    with pytest.raises(StoredFileUnavailable) as refused:
        create_from_path(user, samples.tone(1))

    assert isinstance(refused.value.__cause__, OSError)

    assert not AudioFile.objects.exists()
    assert files_under(settings.MEDIA_ROOT) == []


def test_delete_removes_the_file_only_once_the_transaction_commits(user, samples, django_capture_on_commit_callbacks):
    audio_file = create_from_path(user, samples.tone(1))
    path = Path(audio_file.file.path)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        audio_file_delete(audio_file=audio_file)
        assert path.exists()

    for callback in callbacks:
        callback()
    assert not path.exists()
    assert not AudioFile.objects.exists()


def test_delete_refuses_while_a_transcription_is_processing(user, samples):
    audio_file = create_from_path(user, samples.tone(1))
    TranscriptionFactory(user=user, audio_file=audio_file, status=Transcription.Status.PROCESSING)

    with pytest.raises(AudioInUse):
        audio_file_delete(audio_file=audio_file)

    assert AudioFile.objects.filter(pk=audio_file.pk).exists()
    assert Path(audio_file.file.path).exists()


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("interview.mp3", "interview.mp3"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\talk.wav", "talk.wav"),
        ("bad\x00name\x07.mp3", "badname.mp3"),
        ("right\u202eto-left.mp3", "rightto-left.mp3"),
        ("  lots   of\tspace .mp3 ", "lots of space .mp3"),
        ("..", "audio"),
        ("", "audio"),
        ("caf\u0065\u0301.mp3", "caf\u00e9.mp3"),
        ("z" * 10_000 + ".mp3", "z" * 251 + ".mp3"),
        ("z" * 300 + "." + "e" * 300, "z" * 239 + "." + "e" * 15),
    ],
)
def test_display_filename_keeps_only_a_safe_short_name(given, kept):
    assert display_filename(given) == kept


# --- Retention ------------------------------------------------------------------------------


def uploaded_days_ago(audio_file: AudioFile, days: int) -> AudioFile:
    AudioFile.objects.filter(pk=audio_file.pk).update(created_at=timezone.now() - timedelta(days=days, minutes=1))
    return audio_file


def test_purge_deletes_audio_past_retention_and_keeps_transcripts_and_jobs_in_use(
    user, samples, settings, django_capture_on_commit_callbacks
):
    settings.AUDIO_RETENTION_DAYS = 30
    old = uploaded_days_ago(create_from_path(user, samples.tone(1)), 30)
    busy = uploaded_days_ago(create_from_path(user, samples.tone(1)), 45)
    recent = uploaded_days_ago(create_from_path(user, samples.tone(1)), 29)
    done = TranscriptionFactory(user=user, audio_file=old, status=Transcription.Status.COMPLETED, text="Kept.")
    TranscriptionFactory(user=user, audio_file=busy, status=Transcription.Status.PENDING)

    with django_capture_on_commit_callbacks(execute=True):
        report = audio_purge_expired()

    assert (report.deleted, report.in_use) == (1, [busy.pk])
    assert set(AudioFile.objects.values_list("pk", flat=True)) == {busy.pk, recent.pk}
    assert sorted(files_under(settings.MEDIA_ROOT)) == sorted(
        Path(settings.MEDIA_ROOT, audio.file.name) for audio in (busy, recent)
    )
    done.refresh_from_db()
    assert (done.audio_file, done.text) == (None, "Kept.")


def test_retention_of_zero_days_keeps_audio_for_ever(user, samples, settings):
    settings.AUDIO_RETENTION_DAYS = 0
    uploaded_days_ago(create_from_path(user, samples.tone(1)), 3650)

    assert audio_purge_expired().deleted == 0
    assert AudioFile.objects.count() == 1


def test_the_command_and_the_beat_entry_run_the_purge(user, samples, settings):
    settings.AUDIO_RETENTION_DAYS = 7
    uploaded_days_ago(create_from_path(user, samples.tone(1)), 8)
    out = io.StringIO()

    call_command("purge_expired_audio", stdout=out)

    assert "1 audio file(s) older than 7 days deleted, 0 kept for now." in out.getvalue()
    assert not AudioFile.objects.exists()

    uploaded_days_ago(create_from_path(user, samples.tone(1)), 8)
    assert settings.CELERY_BEAT_SCHEDULE["purge-expired-audio"]["task"] == purge_expired.name
    purge_expired.apply(throw=True)
    assert not AudioFile.objects.exists()
