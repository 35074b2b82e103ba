from __future__ import annotations

import logging
import os
import shutil
import tempfile
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import DatabaseError, transaction
from django.db.models import F
from django.utils import timezone

from audio.exceptions import (
    AudioInUse,
    AudioTooLong,
    DirectUploadMissing,
    DirectUploadUnavailable,
    EmptyFile,
    StoredFileUnavailable,
)
from audio.models import AudioFile, DirectUpload, PendingFileDeletion
from audio.probe import AudioProbe, probe_audio
from audio.signals import audio_expiring, audio_file_deleting
from audio.upload_handlers import file_too_large, max_upload_bytes
from config.exceptions import DomainError

if TYPE_CHECKING:
    from uuid import UUID

    from accounts.models import User

logger = logging.getLogger(__name__)

COPY_CHUNK_BYTES = 1024 * 1024
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
    _check_size(file.size or 0)
    with _on_disk(file) as path:
        probe = _checked_probe(path)

    audio_file = AudioFile(
        user=user,
        original_filename=display_filename(original_filename),
        format=probe.format,
        size_bytes=file.size,
        duration_seconds=probe.duration_seconds,
    )
    name = f"audio_files/{user.pk}/{audio_file.pk}.{probe.format}"
    try:
        try:
            # To an object store: from the temporary file, in parts when large (never whole in memory).
            audio_file.file.save(name, file, save=False)
        except Exception as exc:  # the store refused (a wrong key: 403) or is away, or the disk is full
            logger.exception("Could not store %s", name)
            raise StoredFileUnavailable("The file could not be stored right now; please try again later.") from exc
        audio_file.save(force_insert=True)
    except BaseException:
        stored_file_discard(name=name)
        raise
    return audio_file


def _check_size(size: int) -> None:
    if not size:
        raise EmptyFile()
    if size > max_upload_bytes():
        raise file_too_large()


def _checked_probe(path: str) -> AudioProbe:
    """What the file is, if it is audio we take (`UnsupportedFormat`, `InvalidAudio`, `AudioTooLong`)."""
    probe = probe_audio(path)
    if probe.duration_seconds > settings.MAX_AUDIO_MINUTES * 60:
        raise AudioTooLong(
            f"The recording is {_minutes_and_seconds(probe.duration_seconds)} long; "
            f"the limit is {settings.MAX_AUDIO_MINUTES} minutes."
        )
    return probe


def stored_file_discard(*, name: str) -> None:
    """Remove a file stored for a row that was never written (its transaction failed), at once and
    outside any transaction; if the storage fails, leave its deletion pending for beat (unless the
    database is gone too: then say so loudly)."""
    try:
        default_storage.delete(name)
        return
    except Exception as exc:
        logger.warning("Could not delete stored file %s (will try again): %s", name, exc)
    try:
        PendingFileDeletion.objects.create(name=name, attempts=1)
    except DatabaseError:
        logger.error("Stored file %s is left behind: neither deleted nor recorded for deletion", name)


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
        pending = PendingFileDeletion.objects.create(name=str(locked.file.name))
        transaction.on_commit(partial(stored_file_delete, pending_id=pending.pk), robust=True)


def stored_file_delete(*, pending_id: int) -> bool:
    """Delete a stored file whose deletion is pending; True once it is gone. A failure is recorded
    on the pending row, which beat tries again (`stored_file_retry_deletions`)."""
    pending = PendingFileDeletion.objects.filter(pk=pending_id).first()
    if pending is None:  # another attempt finished it
        return True
    try:
        default_storage.delete(pending.name)  # deleting what is not there is no error
    except Exception as exc:  # any failure of the storage: boto3's, a socket's, the disk's
        logger.warning("Could not delete stored file %s (will try again): %s", pending.name, exc)
        PendingFileDeletion.objects.filter(pk=pending_id).update(
            attempts=F("attempts") + 1, last_error=f"{type(exc).__name__}: {exc}"[:255]
        )
        return False
    PendingFileDeletion.objects.filter(pk=pending_id).delete()
    return True


def stored_file_retry_deletions() -> int:
    """Try every pending deletion again (beat runs this); returns how many are still pending."""
    pending_ids = list(PendingFileDeletion.objects.order_by("pk").values_list("pk", flat=True))
    return sum(not stored_file_delete(pending_id=pending_id) for pending_id in pending_ids)


def stored_file_save(*, name: str, path: Path) -> str:
    """Store a local file (a copy another app made of some audio) under `name` in the storage that
    holds uploads; returns the name it got. Call it outside a transaction and, when the row that
    names it is not written after all, `stored_file_discard` it (or, in a transaction that goes on,
    `stored_file_forget` it). Raises StoredFileUnavailable."""
    try:
        with path.open("rb") as file:
            return default_storage.save(name, File(file))
    except Exception as exc:  # the store refused or is away, or the disk is full
        logger.exception("Could not store %s", name)
        raise StoredFileUnavailable("The file could not be stored right now; please try again later.") from exc


def stored_file_forget(*, name: str) -> None:
    """Delete a stored file once the caller's transaction commits (beat tries again on failure)."""
    pending = PendingFileDeletion.objects.create(name=name)
    transaction.on_commit(partial(stored_file_delete, pending_id=pending.pk), robust=True)


def stored_file_open(*, name: str) -> File[Any]:
    """A stored file, open for reading (streamed from an object store). Raises StoredFileUnavailable."""
    try:
        return default_storage.open(name, "rb")
    except Exception as exc:
        raise StoredFileUnavailable() from exc


@contextmanager
def audio_file_local_copy(*, audio_file: AudioFile) -> Iterator[Path]:
    """The audio's bytes in a local file, for ffmpeg: on the local disk the stored file itself (the
    one place a storage path is used), from an object store a temporary copy, streamed to disk and
    removed on leaving whatever happens."""
    name = str(audio_file.file.name)
    try:
        local = default_storage.path(name)
    except NotImplementedError:  # not on this machine's disk
        local = None
    if local is not None:
        yield Path(local)
        return
    with _stored_copy(name) as path:
        yield path


@contextmanager
def _stored_copy(name: str) -> Iterator[Path]:
    """A temporary local copy of a stored file, streamed to disk, removed on leaving."""
    with tempfile.NamedTemporaryFile(suffix=Path(name).suffix, dir=settings.FILE_UPLOAD_TEMP_DIR) as copy:
        try:
            with default_storage.open(name, "rb") as stored:
                shutil.copyfileobj(stored, copy, COPY_CHUNK_BYTES)
        except Exception as exc:  # boto3's, botocore's, a socket's: the store is away or lost it
            raise StoredFileUnavailable() from exc
        copy.flush()
        yield Path(copy.name)


@dataclass(frozen=True)
class PurgeReport:
    deleted: int = 0
    in_use: list[UUID] = field(default_factory=list)


def audio_purge_expired(*, now: datetime | None = None) -> PurgeReport:
    """Delete every audio file older than `AUDIO_RETENTION_DAYS` (0 keeps audio for ever), each as
    `audio_file_delete` does: the transcriptions of it keep their text, and a file a job is waiting
    for or working on stays until the next run. Then the apps above delete what they made from audio
    that long ago (`audio_expiring`). Safe beside uploads, jobs and another purge."""
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
    audio_expiring.send(sender=AudioFile, cutoff=cutoff)
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


@dataclass(frozen=True)
class SignedUpload:
    """Where and how the client sends the file itself: a PUT of exactly `size_bytes` bytes."""

    upload: DirectUpload
    url: str
    headers: dict[str, str]


def direct_upload_start(*, user: User, filename: str, size_bytes: int) -> SignedUpload:
    """Let the client send a large file straight to the object store: a URL signed for one PUT of
    `size_bytes` bytes to this upload's key, valid DIRECT_UPLOAD_EXPIRY_SECONDS. The storage's own
    credentials never leave the server. Raises `DirectUploadUnavailable` (audio on the local disk),
    `EmptyFile`, `FileTooLarge`."""
    client = _s3_client()
    _check_size(size_bytes)
    upload = DirectUpload(user=user, original_filename=display_filename(filename), size_bytes=size_bytes)
    upload.key = f"audio_files/{user.pk}/{upload.pk}"
    upload.expires_at = timezone.now() + timedelta(seconds=settings.DIRECT_UPLOAD_EXPIRY_SECONDS)
    upload.save(force_insert=True)
    url = client.generate_presigned_url(
        "put_object",
        Params={"Bucket": settings.AWS_STORAGE_BUCKET_NAME, "Key": upload.key, "ContentLength": size_bytes},
        ExpiresIn=settings.DIRECT_UPLOAD_EXPIRY_SECONDS,
        HttpMethod="PUT",
    )
    return SignedUpload(upload=upload, url=url, headers={"Content-Length": str(size_bytes)})


def direct_upload_complete(*, upload: DirectUpload) -> AudioFile:
    """Check what the client sent, as `POST /api/audio/` checks an upload, and record it as the
    user's audio file (the object stays where it is). A refusal deletes the object and
    the upload, answering as that endpoint would. Raises `DirectUploadMissing` (nothing sent yet),
    `EmptyFile`, `FileTooLarge`, `UnsupportedFormat`, `InvalidAudio`, `AudioTooLong`, `StoredFileUnavailable`."""
    try:
        size = default_storage.size(upload.key)
    except Exception as exc:  # botocore's ClientError for a missing object, or the store away
        if default_storage.exists(upload.key):
            raise StoredFileUnavailable() from exc
        raise DirectUploadMissing() from exc
    try:
        _check_size(size)
        with _stored_copy(upload.key) as path:
            probe = _checked_probe(str(path))
    except StoredFileUnavailable:
        raise
    except DomainError:
        _direct_upload_discard(upload)
        raise
    audio_file = AudioFile(
        id=upload.pk,
        user_id=upload.user_id,
        file=upload.key,
        original_filename=upload.original_filename,
        format=probe.format,
        size_bytes=size,
        duration_seconds=probe.duration_seconds,
    )
    with transaction.atomic():
        audio_file.save(force_insert=True)
        upload.delete()
    return audio_file


def direct_upload_purge_expired(*, now: datetime | None = None) -> int:
    """Forget uploads never completed within a day of their URL's expiry, deleting what was sent."""
    cutoff = (now or timezone.now()) - timedelta(days=1)
    stale = list(DirectUpload.objects.filter(expires_at__lt=cutoff))
    for upload in stale:
        _direct_upload_discard(upload)
    return len(stale)


def _direct_upload_discard(upload: DirectUpload) -> None:
    with transaction.atomic():
        pending = PendingFileDeletion.objects.create(name=upload.key)
        upload.delete()
    stored_file_delete(pending_id=pending.pk)


def _s3_client() -> Any:
    """The S3 client of the default storage; `DirectUploadUnavailable` when audio is on the local disk."""
    bucket = getattr(default_storage, "bucket", None)  # django-storages' S3Storage has one
    if bucket is None:
        raise DirectUploadUnavailable()
    return bucket.meta.client
