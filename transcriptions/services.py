"""Transcription jobs: request and pay (a hold), run the engine, then capture or release.

The money rule everywhere: the hold is settled (captured or released) in the same transaction
that moves the job to its final status, and only by the call that makes that move. The wallet
row is always locked first (inside `wallet_capture`/`wallet_release`), then the job's row.
No engine ever runs inside a transaction or while a lock is held.
"""

import logging
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from pathlib import Path

from django.db import IntegrityError, transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerUnavailable

from config import metrics
from transcriptions.engines import EngineError, EngineResult, EngineUnavailable, get_engine
from transcriptions.exceptions import (
    IdempotencyKeyReused,
    TranscriptionFailed,
    TranscriptionInProgress,
    TranscriptionNotRetryable,
    TranscriptionQueueUnavailable,
    UnsupportedLanguage,
)
from transcriptions.models import Transcription
from transcriptions.selectors import ACTIVE_STATUSES, transcription_audio_file_get
from wallet.services import billable_minutes, wallet_capture, wallet_release, wallet_reserve

logger = logging.getLogger(__name__)

Status = Transcription.Status


def transcription_create(
    *, user, audio_file_id, language: str = "", idempotency_key: str | None = None
) -> tuple[Transcription, bool]:
    """Request a transcription of one of the caller's audio files, paying for it up front.

    One transaction creates the `pending` job and holds its whole cost (`wallet_reserve` locks
    the wallet row until commit); after commit the job is queued, or on the embedded default run
    in-process before this returns. Returns `(job, True)`, or `(first job, False)` when
    `idempotency_key` was already used by this user: the unique constraint on (user, key)
    decides a race, so a key makes at most one job.

    Raises `AudioFileNotFound` (not the caller's), `UnsupportedLanguage`, `InsufficientBalance`
    and `TranscriptionInProgress` (this audio already has a pending or processing job), all with
    nothing created; `IdempotencyKeyReused` when the key was used for another audio file.
    """
    if idempotency_key:
        first = Transcription.objects.filter(user=user, idempotency_key=idempotency_key).first()
        if first is not None:
            return _replayed(first, audio_file_id), False
    audio_file = transcription_audio_file_get(user=user, audio_file_id=audio_file_id)
    engine = get_engine()
    if not engine.supports_language(language):
        raise UnsupportedLanguage()
    minutes = billable_minutes(audio_file.duration_seconds)
    try:
        with transaction.atomic():
            job = Transcription.objects.create(
                user=user,
                audio_file=audio_file,
                audio_filename=audio_file.original_filename,
                audio_duration_seconds=audio_file.duration_seconds,
                language=language,
                engine=engine.name,
                model=engine.model,
                billable_minutes=minutes,
                idempotency_key=idempotency_key,
            )
            hold = wallet_reserve(user=user, transcription=job, minutes=minutes)
            # Under the wallet lock wallet_reserve holds until commit: a concurrent request for the
            # same audio waits for it, then sees this job.
            if (
                Transcription.objects.filter(audio_file=audio_file, status__in=ACTIVE_STATUSES)
                .exclude(pk=job.pk)
                .exists()
            ):
                raise TranscriptionInProgress()
            job.demo_minutes_used = hold.demo_minutes
            job.charged_minutes = minutes - hold.demo_minutes
            job.amount = hold.amount
            job.save(update_fields=["demo_minutes_used", "charged_minutes", "amount", "updated_at"])
            transaction.on_commit(partial(_enqueue, job.pk))
    except IntegrityError:
        if idempotency_key:  # a concurrent request with the same key won
            first = Transcription.objects.filter(user=user, idempotency_key=idempotency_key).first()
            if first is not None:
                return _replayed(first, audio_file_id), False
        transcription_audio_file_get(user=user, audio_file_id=audio_file_id)  # deleted meanwhile: not found
        raise
    job.refresh_from_db()  # it may have run already
    return job, True


def _replayed(first: Transcription, audio_file_id) -> Transcription:
    if str(first.audio_file_id) != str(audio_file_id):
        raise IdempotencyKeyReused()
    return first


def _enqueue(transcription_id) -> None:
    from transcriptions.tasks import transcribe  # tasks import this module

    try:
        transcribe.delay(str(transcription_id))
    except BrokerUnavailable:
        logger.exception("Could not queue transcription %s", transcription_id)
        _fail(
            transcription_id,
            code=TranscriptionQueueUnavailable.code,
            error=TranscriptionQueueUnavailable.default_detail,
            status=Status.PENDING,
        )


def transcription_record_response(*, transcription: Transcription, status_code: int) -> None:
    """Remember how the first request with an Idempotency-Key was answered, for its repeats."""
    Transcription.objects.filter(pk=transcription.pk, response_status__isnull=True).update(response_status=status_code)
    transcription.response_status = transcription.response_status or status_code


def transcription_run(*, transcription_id) -> Transcription:
    """Run a pending job: `processing`, the engine, then `completed` (hold captured) or `failed`
    (hold released, with a message safe to show). Engine errors never escape.

    Only the call that moves the job out of `pending` runs it, so a redelivered task is harmless.
    """
    now = timezone.now()
    claimed = Transcription.objects.filter(pk=transcription_id, status=Status.PENDING).update(
        status=Status.PROCESSING, started_at=now, updated_at=now
    )
    job = Transcription.objects.select_related("audio_file").get(pk=transcription_id)
    if not claimed:
        return job
    if job.audio_file is None:
        _fail(job.pk, code=TranscriptionFailed.code, error="The audio file was deleted before it was transcribed.")
        return _reloaded(job)
    engine = get_engine(name=job.engine, model=job.model)
    try:
        result = engine.transcribe(
            path=Path(job.audio_file.file.path), language=job.language or None, on_progress=_progress_recorder(job.pk)
        )
    except EngineError as exc:
        logger.warning("Transcription %s failed: %s", job.pk, exc.message)
        if isinstance(exc, EngineUnavailable):
            metrics.provider_errors_total.labels(provider=job.engine, kind=exc.code).inc()
        _fail(job.pk, code=exc.code, error=f"{exc.message} Nothing was charged.")
    except Exception:
        logger.exception("Transcription %s failed unexpectedly", job.pk)
        _fail(job.pk, code=TranscriptionFailed.code, error=TranscriptionFailed.default_detail)
    else:
        _complete(job.pk, result)
    job = _reloaded(job)
    _count_outcome(job)
    return job


def _count_outcome(job: Transcription) -> None:
    metrics.transcriptions_total.labels(status=job.status, engine=job.engine).inc()
    if job.status == Status.COMPLETED:
        metrics.transcribed_minutes_total.labels(engine=job.engine).inc(float(job.billable_minutes))


def _reloaded(job: Transcription) -> Transcription:
    job.refresh_from_db()
    return job


def _progress_recorder(transcription_id) -> Callable[[float], None]:
    last = 0

    def record(fraction: float) -> None:
        nonlocal last
        percent = min(int(fraction * 100 + 1e-6), 99)  # 100 once the result is saved; 1e-6 for float error
        if percent > last:
            Transcription.objects.filter(pk=transcription_id, status=Status.PROCESSING).update(progress=percent)
            last = percent

    return record


def _complete(transcription_id, result: EngineResult) -> bool:
    with transaction.atomic():
        wallet_capture(transcription_id=transcription_id)
        now = timezone.now()
        finished = Transcription.objects.filter(pk=transcription_id, status=Status.PROCESSING).update(
            status=Status.COMPLETED,
            text=result.text,
            segments=None if result.segments is None else [segment.as_dict() for segment in result.segments],
            progress=100,
            completed_at=now,
            updated_at=now,
        )
        if not finished:
            # Reaped while the engine ran (its hold released): the result came too late to keep.
            logger.warning("Transcription %s finished after it was failed; result dropped", transcription_id)
            transaction.set_rollback(True)
    return bool(finished)


def _fail(transcription_id, *, code: str, error: str, status: str = Status.PROCESSING, **only_if) -> bool:
    """Move the job from `status` to `failed` and release its hold, together or not at all."""
    with transaction.atomic():
        wallet_release(transcription_id=transcription_id)
        now = timezone.now()
        failed = Transcription.objects.filter(pk=transcription_id, status=status, **only_if).update(
            status=Status.FAILED, error=error, error_code=code, completed_at=now, updated_at=now
        )
        if not failed:
            transaction.set_rollback(True)
    return bool(failed)


def transcription_reap_stuck(*, older_than: timedelta) -> list:
    """Fail the jobs that have been `processing` for longer than `older_than` (their worker died)
    and release their holds. Returns the ids it failed.

    Safe from cron, any number of times and concurrently: each job is failed and released once,
    and a job that completes meanwhile is left completed.
    """
    cutoff = timezone.now() - older_than
    stuck = Transcription.objects.filter(status=Status.PROCESSING, started_at__lt=cutoff).values_list("pk", "engine")
    reaped = []
    for transcription_id, engine in list(stuck):
        if _fail(
            transcription_id,
            code="transcription_interrupted",
            error="The transcription stopped before it finished. Nothing was charged.",
            started_at__lt=cutoff,
        ):
            metrics.transcriptions_total.labels(status=Status.FAILED, engine=engine).inc()
            reaped.append(transcription_id)
    return reaped


def transcription_retry(*, transcription: Transcription) -> Transcription:
    """A new job, paid like any request, for the audio of a failed one (which stays as it was).

    Raises `TranscriptionNotRetryable`, and whatever `transcription_create` raises.
    """
    if transcription.status != Status.FAILED or transcription.audio_file_id is None:
        raise TranscriptionNotRetryable()
    job, _ = transcription_create(
        user=transcription.user, audio_file_id=transcription.audio_file_id, language=transcription.language
    )
    return job
