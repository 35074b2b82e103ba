from __future__ import annotations

import os
import tempfile
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING, Any, cast

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.utils import timezone

from audio.exceptions import AudioInUse, AudioTooLong, EmptyFile
from audio.models import AudioFile
from audio.probe import probe_audio
from audio.signals import audio_file_deleting
from audio.upload_handlers import file_too_large, max_upload_bytes

if TYPE_CHECKING:
    from uuid import UUID

    from accounts.models import User

MAX_FILENAME_LENGTH = cast(int, AudioFile._meta.get_field("original_filename").max_length)
MAX_EXTENSION_LENGTH = 16


def audio_file_create(*, user: User, file: File[Any], original_filename: str) -> AudioFile:
    """Check an audio file by its content, store it and record it.

    `file` is any Django `File`: an upload (already on disk in a temporary file) or a local file
    opened by a command. Its format and duration come from its bytes (`audio.probe`); the client's
    name and content type are never trusted, and the name is kept only as sanitised metadata. The
    file is stored at `audio_files/{user_id}/{id}.{ext}` through the default storage and the row
    written after it: on any refusal or error, nothing is stored and no row exists. Call it outside
    a transaction, since a rollback of the caller's transaction cannot remove the stored file.

    Raises EmptyFile, FileTooLarge, UnsupportedFormat, InvalidAudio or AudioTooLong.
    """
    if not file.size:
        raise EmptyFile()
    if file.size > max_upload_bytes():
        raise file_too_large()
    with _on_disk(file) as path:
        probe = probe_audio(path)
    if probe.duration_seconds > settings.MAX_AUDIO_MINUTES * 60:
        raise AudioTooLong(
            f"The recording is {_minutes_and_seconds(probe.duration_seconds)} long; "
            f"the limit is {settings.MAX_AUDIO_MINUTES} minutes."
        )

    audio_file = AudioFile(
        user=user,
        original_filename=display_filename(original_filename),
        format=probe.format,
        size_bytes=file.size,
        duration_seconds=probe.duration_seconds,
    )
    name = f"audio_files/{user.pk}/{audio_file.pk}.{probe.format}"
    try:
        audio_file.file.save(name, file, save=False)
        audio_file.save(force_insert=True)
    except BaseException:
        audio_file.file.storage.delete(name)
        raise
    return audio_file


def audio_file_delete(*, audio_file: AudioFile) -> None:
    """Delete an audio file's row, then its stored file once that has committed.

    Locks the audio file's row, then asks the apps that use audio whether it may go
    (`audio_file_deleting`): the transcriptions app raises AudioInUse while a job of it is pending
    or processing. Transcriptions already finished keep their text (their link becomes empty).
    """
    with transaction.atomic():
        # While this lock is held no transcription of the file can be inserted (on MySQL/MariaDB the
        # insert's foreign-key check takes a shared lock on this row), and one inserted just before
        # makes this wait for its commit; either way the receivers see it.
        locked = AudioFile.objects.select_for_update().get(pk=audio_file.pk)
        audio_file_deleting.send(sender=AudioFile, audio_file=locked)
        locked.delete()
        transaction.on_commit(partial(locked.file.storage.delete, str(locked.file.name)), robust=True)


@dataclass(frozen=True)
class PurgeReport:
    deleted: int = 0
    in_use: list[UUID] = field(default_factory=list)


def audio_purge_expired(*, now: datetime | None = None) -> PurgeReport:
    """Delete every audio file older than `AUDIO_RETENTION_DAYS` (0 keeps audio for ever), each as
    `audio_file_delete` does: the transcriptions of it keep their text, and a file a job is waiting
    for or working on stays until the next run. Safe beside uploads, jobs and another purge."""
    if settings.AUDIO_RETENTION_DAYS <= 0:
        return PurgeReport()
    cutoff = (now or timezone.now()) - timedelta(days=settings.AUDIO_RETENTION_DAYS)
    deleted, in_use = 0, []
    for audio_file in AudioFile.objects.filter(created_at__lt=cutoff).only("pk", "file").iterator():
        try:
            audio_file_delete(audio_file=audio_file)
        except AudioInUse:
            in_use.append(audio_file.pk)
        except AudioFile.DoesNotExist:  # deleted meanwhile by its user or another purge
            continue
        else:
            deleted += 1
    return PurgeReport(deleted=deleted, in_use=in_use)


def display_filename(name: str) -> str:
    """The client's file name, safe to store and show: no directories, no control characters, at
    most 255 characters (keeping its extension)."""
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    name = " ".join(name.split())  # tabs and line breaks become single spaces
    name = "".join(char for char in name if not unicodedata.category(char).startswith("C"))
    if name in {"", ".", ".."}:
        return "audio"
    if len(name) > MAX_FILENAME_LENGTH:
        stem, extension = os.path.splitext(name)
        extension = extension[:MAX_EXTENSION_LENGTH]
        name = stem[: MAX_FILENAME_LENGTH - len(extension)] + extension
    return name


@contextmanager
def _on_disk(file: File[Any]) -> Iterator[str]:
    """A path to the file's bytes: an upload's temporary file, or else a temporary copy."""
    if hasattr(file, "temporary_file_path"):
        yield file.temporary_file_path()
        return
    with tempfile.NamedTemporaryFile(suffix=".upload", dir=settings.FILE_UPLOAD_TEMP_DIR) as copy:
        for chunk in file.chunks():
            copy.write(chunk)
        copy.flush()
        yield copy.name


def _minutes_and_seconds(seconds: Decimal | float) -> str:
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}:{rest:02d}"
