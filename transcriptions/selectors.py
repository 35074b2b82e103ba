from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from django.conf import settings
from django.db.models import Count, Q, QuerySet

from accounts.models import User
from audio.models import AudioFile
from audio.selectors import audio_file_get
from transcriptions.exceptions import AudioFileNotFound
from transcriptions.models import Transcription

ACTIVE_STATUSES = (Transcription.Status.PENDING, Transcription.Status.PROCESSING)
EXPORT_BATCH_SIZE = 2000


def transcription_reapable(*, now: datetime) -> Q:
    """The jobs the reaper acts on at `now`: pending or processing past their deadline, and
    processing ones whose process stopped beating (orphaned), whatever their deadline. Live
    sessions are not jobs to run again: `transcriptions.live.live_session_reap` settles them."""
    silent_since = now - timedelta(seconds=settings.TRANSCRIPTION_HEARTBEAT_TIMEOUT_SECONDS)
    due = Q(status__in=ACTIVE_STATUSES, deadline_at__lt=now) | Q(
        status=Transcription.Status.PROCESSING, heartbeat_at__lt=silent_since
    )
    return due & ~Q(source=Transcription.Source.REALTIME)


def audio_has_active_transcription(*, audio_file_id: UUID) -> bool:
    """True while a transcription of this audio is pending or processing."""
    return Transcription.objects.filter(audio_file_id=audio_file_id, status__in=ACTIVE_STATUSES).exists()


def transcription_audio_file_get(*, user: User, audio_file_id: UUID | str, for_update: bool = False) -> AudioFile:
    """The caller's audio file; anyone else's is `AudioFileNotFound`, as if it did not exist.
    `for_update` locks its row until the caller's transaction ends."""
    audio_file = audio_file_get(user=user, audio_file_id=audio_file_id, for_update=for_update)
    if audio_file is None:
        raise AudioFileNotFound()
    return audio_file


def transcription_list(*, user: User) -> QuerySet[Transcription]:
    """The user's transcriptions, without those the user deleted."""
    return Transcription.objects.filter(user=user, deleted_at__isnull=True)


def transcription_by_idempotency_key(*, user: User, key: str) -> Transcription | None:
    """The user's job first requested with this `Idempotency-Key`, if any."""
    return Transcription.objects.filter(user=user, idempotency_key=key).first()


def transcription_iter_batched(*, queryset: QuerySet[Transcription], fields: list[str]) -> Iterator[Transcription]:
    """Every row of `queryset`, in its order, holding at most one batch in memory.

    `iterator()` alone does not bound memory on MySQL/MariaDB, whose driver fetches the whole
    result set first; so read the ordered ids (small), then the rows a batch at a time.
    """
    ids = list(queryset.values_list("pk", flat=True))
    for offset in range(0, len(ids), EXPORT_BATCH_SIZE):
        batch_ids = ids[offset : offset + EXPORT_BATCH_SIZE]
        rows = Transcription.objects.only(*fields).in_bulk(batch_ids)
        yield from (rows[pk] for pk in batch_ids if pk in rows)


# --- Operations ------------------------------------------------------------------------------

# What an operator's lists of jobs need, and never the text or segments.
SUMMARY_FIELDS = ("id", "user__email", "audio_filename", "status", "engine", "error_code", "created_at", "deadline_at")


@dataclass(frozen=True)
class JobCount:
    """How many jobs of one status, engine and error code were created since each of three moments."""

    status: str
    engine: str
    error_code: str
    today: int
    week: int
    month: int


def transcription_job_counts(*, month: datetime, week: datetime, today: datetime) -> list[JobCount]:
    """Jobs created since `month`, by status, engine and error code, with how many of them since
    `week` and since `today`. One aggregate query over the (created_at, status, engine, error_code)
    index; deleted transcripts count, as their work was done."""
    rows = (
        Transcription.objects.filter(created_at__gte=month)
        .values("status", "engine", "error_code")
        .annotate(
            today=Count("pk", filter=Q(created_at__gte=today)),
            week=Count("pk", filter=Q(created_at__gte=week)),
            month=Count("pk"),
        )
        .order_by("status", "engine", "error_code")
    )
    return [JobCount(**row) for row in rows]


def transcription_stuck(*, now: datetime) -> QuerySet[Transcription]:
    """Jobs the reaper should have acted on (past their deadline, or orphaned: no heartbeat),
    oldest deadline first: it runs every TRANSCRIPTION_REAPER_INTERVAL_SECONDS, so any that stay
    mean it is not running."""
    return (
        Transcription.objects.filter(transcription_reapable(now=now))
        .select_related("user")
        .only(*SUMMARY_FIELDS)
        .order_by("deadline_at")
    )


def transcription_failed_since(*, since: datetime) -> QuerySet[Transcription]:
    """Jobs created since `since` that failed, newest first."""
    return (
        Transcription.objects.filter(created_at__gte=since, status=Transcription.Status.FAILED)
        .select_related("user")
        .only(*SUMMARY_FIELDS)
        .order_by("-created_at")
    )
