"""Transcription jobs: request and pay (a hold), run the engine, then capture or release.

The money rule everywhere: the hold is settled (captured or released) in the same transaction
that moves the job to its final status, and only by the call that makes that move. The wallet
row is always locked first (inside `wallet_capture`/`wallet_release`), then the job's row.
No engine ever runs inside a transaction or while a lock is held.
"""

import logging
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial
from math import ceil
from pathlib import Path
from typing import Any
from uuid import UUID

from celery import current_app
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.files import File
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import User
from audio.exceptions import AudioInUse, StoredFileUnavailable
from audio.models import AudioFile
from audio.services import (
    audio_file_delete,
    audio_file_local_copy,
    stored_file_discard,
    stored_file_forget,
    stored_file_open,
    stored_file_save,
)
from config import metrics
from redaction.audio import AudioMethod, redact_audio
from redaction.entities import Entity
from redaction.transcript import Span, Substitution
from transcriptions.decoded import decoded_keeper
from transcriptions.engines import Engine, EngineError, EngineResult, EngineUnavailable, engine_models, get_engine
from transcriptions.exceptions import (
    AlreadyTranscribed,
    IdempotencyKeyReused,
    NoRedactedAudio,
    TranscriptionActive,
    TranscriptionFailed,
    TranscriptionInProgress,
    TranscriptionInterrupted,
    TranscriptionNotActive,
    TranscriptionNotFound,
    TranscriptionNotRetryable,
    TranscriptionNotStarted,
    TranscriptionQueueUnavailable,
    TranscriptionStopped,
    TranscriptionStorageUnavailable,
    TranscriptionTimedOut,
    UnsupportedLanguage,
    UnsupportedModel,
    UnsupportedOption,
)
from transcriptions.models import Transcription, wallet_subject
from transcriptions.pii import result_redact
from transcriptions.selectors import (
    ACTIVE_STATUSES,
    audio_has_active_transcription,
    transcription_audio_file_get,
    transcription_reapable,
)
from wallet.models import Transaction
from wallet.services import billable_minutes, wallet_capture, wallet_refund, wallet_release, wallet_reserve
from webhooks.models import TRANSCRIPTION_COMPLETED, TRANSCRIPTION_FAILED
from webhooks.services import webhook_event_record, webhook_url_check

logger = logging.getLogger(__name__)

Status = Transcription.Status
TRANSCRIBE_TASK = "transcriptions.transcribe"
# From the soft time limit (the job fails) to the hard one (its worker process is killed).
HARD_LIMIT_MARGIN_SECONDS = 60
# Past the hard limit, how long the reaper leaves the job to its worker's own failure handling.
REAP_GRACE_SECONDS = 60
# How often the reaper gives a job one more run before failing it.
MAX_REQUEUES = 1


@dataclass(frozen=True)
class TimeLimits:
    soft: int
    hard: int


@dataclass(frozen=True)
class TranscriptionModel:
    """A model of this deployment's engine that a request may name."""

    name: str  # as a request names it, and as its jobs record it
    engine: str
    is_default: bool  # what a request that names no model gets
    gives_segments: bool  # timestamps: segments, words, subtitles
    labels_speakers: bool  # every job on it labels speakers (and only such jobs run on it)


def transcription_models() -> list[TranscriptionModel]:
    """The models a request may name (`transcription_create(model=...)`), the default first."""
    engines = engine_models()
    return [
        TranscriptionModel(
            name=engine.model,
            engine=engine.name,
            is_default=engine is engines[0],
            gives_segments=engine.gives_segments,
            labels_speakers=_labels_speakers(engine),
        )
        for engine in engines
    ]


def _labels_speakers(engine: Engine) -> bool:
    speaker_engine = engine.for_speakers()
    return speaker_engine is not None and speaker_engine.model == engine.model


def transcription_create(
    *,
    user: User,
    audio_file_id: UUID | str,
    model: str = "",
    source: str = Transcription.Source.API,
    task: str = Transcription.Task.TRANSCRIBE,
    language: str = "",
    language_confidence_threshold: float | None = None,
    keywords: Sequence[str] = (),
    prompt: str = "",
    timestamps: str = Transcription.Timestamps.SEGMENT,
    speaker_labels: bool = False,
    speakers_expected: int | None = None,
    webhook_url: str = "",
    redact_pii: bool = False,
    redact_pii_policies: Sequence[str] = (),
    redact_pii_sub: str = "",
    redact_pii_audio: bool = False,
    redact_pii_audio_method: str = "",
    force: bool = False,
    idempotency_key: str | None = None,
) -> tuple[Transcription, bool]:
    """Request a transcription of one of the caller's audio files, paying for it up front.

    One transaction locks the audio file's row (a second request for it, such as a double click,
    waits and then sees this one's job), creates the `pending` job and holds its whole cost
    (`wallet_reserve` locks the wallet row: the lock order is audio file, then wallet). After
    commit the job is queued, or on the embedded default run in-process before this returns.
    Returns `(job, True)`, or `(first job, False)` when `idempotency_key` was already used by this
    user: the unique constraint on (user, key) decides a race, so a key makes at most one job.

    `timestamps="word"` asks for word timings, which may pick another model of the engine (the job
    records which), and so may `speaker_labels` (with `speakers_expected`, a guess of how many
    speakers there are); a `model` named (one of `transcription_models()`) is never swapped for
    another. `task="translate"` gives the text in English, on the model of the engine that
    translates (with words or speakers only where that model gives them). `webhook_url` is told
    when the job completes or fails. `source` records the way in. Without `language` the job
    records the language detected; `language_confidence_threshold` (0-1) fails it, nothing charged,
    when detection is less sure than that (an engine that does not say how sure: `UnsupportedOption`).
    `keywords` and `prompt` are custom vocabulary (a model that takes none: `UnsupportedOption`).
    `redact_pii` takes the personal data of the kinds in `redact_pii_policies` (all when empty) out of
    the result before it is stored, written as `redact_pii_sub` (`entity_name` or `hash`);
    `redact_pii_audio` also makes a copy of the audio with each redacted span a beep or silence
    (`redact_pii_audio_method`), which needs word timings and so implies `timestamps="word"`.

    Raises, with nothing created: `AudioFileNotFound` (not the caller's), `UnsupportedModel`,
    `UnsupportedLanguage`, `WebhookUrlNotAllowed`,
    `UnsupportedOption`, `AlreadyTranscribed` (a job with the same options is active, or completed and `force` is
    not set), `TranscriptionInProgress` (a job with other options is active), `InsufficientBalance`;
    `IdempotencyKeyReused` when the key was used for another audio file.
    """
    if idempotency_key:
        first = Transcription.objects.filter(user=user, idempotency_key=idempotency_key).first()
        if first is not None:
            return _replayed(first, audio_file_id), False
    audio_file = transcription_audio_file_get(user=user, audio_file_id=audio_file_id)
    if redact_pii_audio:  # the spans to beep come from the words
        timestamps = Transcription.Timestamps.WORD
    engine = _engine_for(
        model=model,
        words=timestamps == Transcription.Timestamps.WORD,
        speaker_labels=speaker_labels,
        translate=task == Transcription.Task.TRANSLATE,
    )
    if (keywords or prompt) and not engine.takes_vocabulary:
        raise UnsupportedOption(f"The model {engine.model} takes no keywords or prompt.")
    if not engine.supports_language(language):
        raise UnsupportedLanguage()
    if language_confidence_threshold is not None:
        if language:
            raise UnsupportedOption("A language confidence threshold is for a language to detect: give no language.")
        if not engine.gives_language_probability:
            raise UnsupportedOption(
                f"The {engine.name} speech-to-text engine does not say how sure it is of the language it detects."
            )
    if webhook_url:
        webhook_url_check(url=webhook_url)
    _check_redaction(redact_pii=redact_pii, policies=redact_pii_policies, substitution=redact_pii_sub)
    if redact_pii_audio and not redact_pii:
        raise UnsupportedOption('A redacted copy of the audio only goes with "redact_pii": true.')
    if redact_pii_audio_method and redact_pii_audio_method not in {method.value for method in AudioMethod}:
        raise UnsupportedOption(f"No such audio redaction method: {redact_pii_audio_method}.")
    minutes = billable_minutes(audio_file.duration_seconds)
    try:
        with transaction.atomic():
            audio_file = transcription_audio_file_get(user=user, audio_file_id=audio_file_id, for_update=True)
            if idempotency_key:  # a request with the same key committed while this one waited
                first = Transcription.objects.filter(user=user, idempotency_key=idempotency_key).first()
                if first is not None:
                    return _replayed(first, audio_file_id), False
            options = {
                "task": task,
                "language": language,
                "keywords": list(keywords),
                "prompt": prompt,
                "timestamps": timestamps,
                "speaker_labels": speaker_labels,
                "redact_pii": redact_pii,
            }
            _refuse_duplicate(audio_file=audio_file, options=options, force=force)
            job = Transcription.objects.create(
                user=user,
                audio_file=audio_file,
                audio_filename=audio_file.original_filename,
                audio_duration_seconds=audio_file.duration_seconds,
                task=task,
                language=language,
                language_confidence_threshold=language_confidence_threshold,
                keywords=list(keywords),
                prompt=prompt,
                timestamps=timestamps,
                speaker_labels=speaker_labels,
                speakers_expected=speakers_expected,
                webhook_url=webhook_url,
                redact_pii=redact_pii,
                redact_pii_policies=sorted(set(redact_pii_policies)) if redact_pii else [],
                redact_pii_sub=(redact_pii_sub or Substitution.ENTITY_NAME) if redact_pii else "",
                redact_pii_audio=redact_pii_audio,
                redact_pii_audio_method=(redact_pii_audio_method or AudioMethod.BEEP) if redact_pii_audio else "",
                source=source,
                engine=engine.name,
                model=engine.model,
                billable_minutes=minutes,
                idempotency_key=idempotency_key,
                deadline_at=timezone.now() + timedelta(seconds=settings.TRANSCRIPTION_QUEUE_TIMEOUT_SECONDS),
            )
            hold = wallet_reserve(user=user, subject=wallet_subject(job.pk), minutes=minutes)
            job.demo_minutes_used = hold.demo_minutes
            job.charged_minutes = minutes - hold.demo_minutes
            job.amount = hold.amount
            job.save(update_fields=["demo_minutes_used", "charged_minutes", "amount", "updated_at"])
            transaction.on_commit(partial(_enqueue, job.pk, duration_seconds=audio_file.duration_seconds))
    except IntegrityError:
        if idempotency_key:  # a concurrent request with the same key won
            first = Transcription.objects.filter(user=user, idempotency_key=idempotency_key).first()
            if first is not None:
                return _replayed(first, audio_file_id), False
        transcription_audio_file_get(user=user, audio_file_id=audio_file_id)  # deleted meanwhile: not found
        raise
    job.refresh_from_db()  # it may have run already
    return job, True


def _check_redaction(*, redact_pii: bool, policies: Sequence[str], substitution: str) -> None:
    """Raises `UnsupportedOption` naming an unknown kind of personal data or substitution."""
    unknown = sorted(set(policies) - {entity.value for entity in Entity})
    if unknown:
        raise UnsupportedOption(f"No such redaction policy: {', '.join(unknown)}.")
    if substitution and substitution not in {choice.value for choice in Substitution}:
        raise UnsupportedOption(f"No such redaction substitution: {substitution}.")
    if not redact_pii and (policies or substitution):
        raise UnsupportedOption('Redaction policies and substitution only go with "redact_pii": true.')


def _engine_for(*, model: str, words: bool, speaker_labels: bool, translate: bool = False) -> Engine:
    """The engine a job runs on: the named `model`, or the default one's variant for word timings,
    speaker labels or translation. Raises `UnsupportedModel`, `UnsupportedOption`."""
    if words and speaker_labels:
        raise UnsupportedOption("Word timings and speaker labels come from different models: ask for one of them.")
    if model and model not in {choice.name for choice in transcription_models()}:
        raise UnsupportedModel(f"The speech-to-text engine in use has no model {model!r}.")
    engine = get_engine(model=model or None)
    if words:
        word_engine = engine.for_words()
        if word_engine is None or (model and word_engine.model != model):
            raise UnsupportedOption(f"The model {engine.model} gives no word timings.")
        engine = word_engine
    if speaker_labels:
        speaker_engine = engine.for_speakers()
        if speaker_engine is None:
            raise UnsupportedOption(f"The {engine.name} speech-to-text engine cannot label speakers.")
        if model and speaker_engine.model != model:
            raise UnsupportedOption(f"The model {model} does not label speakers; {speaker_engine.model} does.")
        engine = speaker_engine
    elif model and _labels_speakers(engine):
        raise UnsupportedOption(f"The model {model} labels speakers: ask for speaker labels with it.")
    if translate:
        translating = engine.for_translation(words=words)
        if translating is None:
            with_what = " with speaker labels" if speaker_labels else " with word timings" if words else ""
            raise UnsupportedOption(f"The model {engine.model} cannot translate to English{with_what}.")
        if model and translating.model != model:
            raise UnsupportedOption(f"The model {model} does not translate; {translating.model} does.")
        engine = translating
    return engine


def _refuse_duplicate(*, audio_file: AudioFile, options: dict[str, Any], force: bool) -> None:
    """One active job per audio file; and no second job with the same options as an active one,
    or as a completed one (not deleted) unless `force`. Call under the audio file's row lock."""
    jobs = Transcription.objects.filter(audio_file=audio_file, deleted_at__isnull=True)
    duplicate_statuses = ACTIVE_STATUSES if force else (*ACTIVE_STATUSES, Status.COMPLETED)
    same = jobs.filter(**options, status__in=duplicate_statuses).order_by("-created_at").first()
    if same is not None:
        raise AlreadyTranscribed(transcription_id=str(same.pk))
    if jobs.filter(status__in=ACTIVE_STATUSES).exists():
        raise TranscriptionInProgress()


def _replayed(first: Transcription, audio_file_id: UUID | str) -> Transcription:
    if str(first.audio_file_id) != str(audio_file_id):
        raise IdempotencyKeyReused()
    return first


def transcription_time_limits(*, duration_seconds: Decimal) -> TimeLimits:
    """How long a job on audio of this length may run: past `soft` it fails (nothing charged),
    past `hard` its worker process is killed."""
    soft = ceil(
        settings.TRANSCRIPTION_TIME_LIMIT_BASE_SECONDS
        + settings.TRANSCRIPTION_TIME_LIMIT_PER_AUDIO_SECOND * float(duration_seconds)
    )
    return TimeLimits(soft=soft, hard=soft + HARD_LIMIT_MARGIN_SECONDS)


def _enqueue(transcription_id: UUID, *, duration_seconds: Decimal) -> None:
    """Hand a committed `pending` job to the workers (on the embedded default: run it now).

    A job that cannot be queued fails at once, nothing charged, so its request can say so. Should
    that fail too (the database is gone as well), or this process die before it ran, the job stays
    `pending` and the reaper queues it again at its deadline.
    """
    try:
        _publish(transcription_id, limits=transcription_time_limits(duration_seconds=duration_seconds))
    except Exception:  # any failure to publish: kombu's, redis-py's, a socket's
        logger.exception("Could not queue transcription %s", transcription_id)
        _fail(
            transcription_id,
            code=TranscriptionQueueUnavailable.code,
            error=TranscriptionQueueUnavailable.default_detail,
            status=Status.PENDING,
        )


def _publish(transcription_id: UUID, *, limits: TimeLimits) -> None:
    # By name: the task module imports this one.
    current_app.tasks[TRANSCRIBE_TASK].apply_async(
        args=[str(transcription_id)], soft_time_limit=limits.soft, time_limit=limits.hard
    )


def transcription_record_answer(*, transcription: Transcription) -> str:
    """Remember the job's status as the first request with its Idempotency-Key is answered, so every
    repeat is answered the same way; returns the status remembered (the first one, if a repeat won)."""
    Transcription.objects.filter(pk=transcription.pk, answered_as="").update(answered_as=transcription.status)
    transcription.refresh_from_db(fields=["answered_as"])
    return transcription.answered_as


def transcription_run(*, transcription_id: UUID | str, run_id: str) -> Transcription:
    """Run a job: `processing`, the engine, then `completed` (hold captured) or `failed` (hold
    released, with a message safe to show and its `error_code`).

    `run_id` is the task running it. The call that moves the job out of `pending` runs it, and so
    does a redelivery of that same task (its worker died mid-job): any other delivery finds the job
    taken or finished and does nothing. While it runs, a thread of this process writes the job's
    `heartbeat_at` (see `_heartbeat`). Engine errors never escape; database errors do, for the task
    to retry, and leave the job for that retry (or the reaper) to finish.
    """
    now = timezone.now()
    job = Transcription.objects.select_related("audio_file").get(pk=transcription_id)
    limits = transcription_time_limits(duration_seconds=job.audio_duration_seconds)
    claimed = (
        Transcription.objects.filter(pk=transcription_id)
        .filter(Q(status=Status.PENDING) | Q(status=Status.PROCESSING, run_id=run_id))
        .update(
            status=Status.PROCESSING,
            run_id=run_id,
            progress=0,
            started_at=now,
            heartbeat_at=now,
            deadline_at=now + timedelta(seconds=limits.hard + REAP_GRACE_SECONDS),
            updated_at=now,
        )
    )
    if not claimed:
        return _reloaded(job)
    this_run = Q(run_id=run_id)
    if job.audio_file is None:
        _fail(
            job.pk,
            code=TranscriptionFailed.code,
            error="The audio file was deleted before it was transcribed.",
            only_if=this_run,
        )
        return _reloaded(job)
    engine = get_engine(name=job.engine, model=job.model)
    try:
        with _heartbeat(job.pk, run_id=run_id), audio_file_local_copy(audio_file=job.audio_file) as path:
            result = engine.transcribe(
                path=path,
                language=job.language or None,
                task=job.task,
                min_language_probability=job.language_confidence_threshold,
                keywords=job.keywords,
                prompt=job.prompt,
                words=job.timestamps == Transcription.Timestamps.WORD,
                speakers=job.speaker_labels,
                speakers_expected=job.speakers_expected,
                on_progress=_progress_recorder(job.pk, run_id=run_id),
                # A job to redact shows no text before it is redacted, as a whole (`result_redact`).
                on_segment=None if job.redact_pii else decoded_keeper(job.pk, run_id=run_id),
            )
            redactions, redacted_audio = None, ""
            if job.redact_pii:  # before anything of the result is stored
                redacted = result_redact(
                    result=result, policies=job.redact_pii_policies, substitution=job.redact_pii_sub
                )
                result, redactions = redacted.result, redacted.counts
                if job.redact_pii_audio:
                    redacted_audio = _redacted_audio_store(job, source=path, spans=redacted.spans)
    except EngineError as exc:
        logger.warning("Transcription %s failed: %s", job.pk, exc.message)
        if isinstance(exc, EngineUnavailable):
            metrics.provider_errors_total.labels(provider=job.engine, kind=exc.code).inc()
        _fail(job.pk, code=exc.code, error=f"{exc.message} Nothing was charged.", only_if=this_run)
    except StoredFileUnavailable:
        logger.exception("Transcription %s could not read its audio from storage", job.pk)
        error = TranscriptionStorageUnavailable
        _fail(job.pk, code=error.code, error=error.default_detail, only_if=this_run)
    except SoftTimeLimitExceeded:
        logger.warning("Transcription %s ran out of time", job.pk)
        _fail(job.pk, code=TranscriptionTimedOut.code, error=TranscriptionTimedOut.default_detail, only_if=this_run)
    except DatabaseError:
        raise  # the task retries; the result, if any, is computed again
    except Exception:
        logger.exception("Transcription %s failed unexpectedly", job.pk)
        _fail(job.pk, code=TranscriptionFailed.code, error=TranscriptionFailed.default_detail, only_if=this_run)
    else:
        try:
            completed = _complete(job.pk, result, redactions=redactions, redacted_audio=redacted_audio, run_id=run_id)
        except BaseException:
            # The transaction that would record the copy failed (the database away): the task's
            # retry makes it again, so this one would be nobody's.
            if redacted_audio and not _recorded(job.pk, redacted_audio=redacted_audio):
                stored_file_discard(name=redacted_audio)
            raise
        if not completed and redacted_audio:  # reaped while it ran: the copy is nobody's
            with transaction.atomic():
                stored_file_forget(name=redacted_audio)
    job = _reloaded(job)
    _count_outcome(job)
    return job


def _recorded(transcription_id: UUID, *, redacted_audio: str) -> bool:
    """Whether the job records this redacted copy: its commit may have happened though the
    connection broke before saying so. A database that cannot answer is taken not to have (a
    commit lost in flight while the database stays away is the case this gets wrong)."""
    try:
        return Transcription.objects.filter(pk=transcription_id, redacted_audio=redacted_audio).exists()
    except DatabaseError:
        return False


def _count_outcome(job: Transcription) -> None:
    metrics.transcriptions_total.labels(status=job.status, engine=job.engine).inc()
    if job.status == Status.COMPLETED:
        metrics.transcribed_minutes_total.labels(engine=job.engine).inc(float(job.billable_minutes))


def _reloaded(job: Transcription) -> Transcription:
    job.refresh_from_db()
    return job


def _progress_recorder(transcription_id: UUID, *, run_id: str) -> Callable[[float], None]:
    """Each step forward is written with a heartbeat."""
    last = 0
    this_run = Transcription.objects.filter(pk=transcription_id, status=Status.PROCESSING, run_id=run_id)

    def record(fraction: float) -> None:
        nonlocal last
        percent = min(int(fraction * 100 + 1e-6), 99)  # 100 once the result is saved; 1e-6 for float error
        if percent > last:
            try:
                this_run.update(progress=percent, heartbeat_at=timezone.now())
            except DatabaseError:  # progress is a courtesy: a database blip must not cost the job
                logger.warning("Could not record the progress of transcription %s", transcription_id)
                return
            last = percent

    return record


@contextmanager
def _heartbeat(transcription_id: UUID, *, run_id: str) -> Iterator[None]:
    """While the block runs, a thread writes the job's `heartbeat_at` every
    TRANSCRIPTION_HEARTBEAT_SECONDS, however long an engine call between progress steps takes.
    When the process dies the beats stop, and the reaper takes the job as orphaned."""
    stopped = threading.Event()
    this_run = Transcription.objects.filter(pk=transcription_id, status=Status.PROCESSING, run_id=run_id)

    def beat() -> None:
        try:
            while not stopped.wait(settings.TRANSCRIPTION_HEARTBEAT_SECONDS):
                try:
                    this_run.update(heartbeat_at=timezone.now())
                except DatabaseError:  # the next beat tries again; the timeout spans several
                    logger.warning("Could not record the heartbeat of transcription %s", transcription_id)
        finally:
            connection.close()  # this thread's own

    thread = threading.Thread(target=beat, name=f"heartbeat-{transcription_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stopped.set()
        thread.join()


def _redacted_audio_store(job: Transcription, *, source: Path, spans: Sequence[Span]) -> str:
    """The job's audio with each span beeped or silenced, stored beside the uploads (FLAC: lossless
    and, unlike MP3, exactly as long as the source); its name in the storage."""
    with tempfile.TemporaryDirectory(dir=settings.FILE_UPLOAD_TEMP_DIR) as workdir:
        redacted = Path(workdir) / "redacted.flac"
        redact_audio(source=source, destination=redacted, spans=spans, method=AudioMethod(job.redact_pii_audio_method))
        return stored_file_save(name=f"redacted_audio/{job.user_id}/{job.pk}.flac", path=redacted)


def _complete(
    transcription_id: UUID,
    result: EngineResult,
    *,
    run_id: str,
    redactions: dict[str, int] | None = None,
    redacted_audio: str = "",
) -> bool:
    with transaction.atomic():
        wallet_capture(subject=wallet_subject(transcription_id))
        now = timezone.now()
        finished = Transcription.objects.filter(pk=transcription_id, status=Status.PROCESSING, run_id=run_id).update(
            status=Status.COMPLETED,
            text=result.text,
            segments=None if result.segments is None else [segment.as_dict() for segment in result.segments],
            detected_language=result.language,
            language_probability=result.language_probability,
            speaker_count=_speaker_count(result),
            redactions=redactions,
            redacted_audio=redacted_audio,
            progress=100,
            completed_at=now,
            deadline_at=None,
            updated_at=now,
        )
        if not finished:
            # Reaped while the engine ran (failed, or queued again): the result came too late to
            # keep, and is not charged.
            logger.warning("Transcription %s finished after it was reaped; result dropped", transcription_id)
            transaction.set_rollback(True)
        else:
            _record_event(transcription_id, TRANSCRIPTION_COMPLETED)
            _delete_audio_after_commit(transcription_id)
    return bool(finished)


def _speaker_count(result: EngineResult) -> int | None:
    speakers = {segment.speaker for segment in result.segments or [] if segment.speaker is not None}
    return len(speakers) if speakers else None


def _fail(
    transcription_id: UUID,
    *,
    code: str,
    error: str,
    status: str = Status.PROCESSING,
    only_if: Q | None = None,
) -> bool:
    """Move the job from `status` to `failed` and release its hold, together or not at all, if it
    still meets `only_if`."""
    with transaction.atomic():
        wallet_release(subject=wallet_subject(transcription_id))
        now = timezone.now()
        failed = Transcription.objects.filter(only_if or Q(), pk=transcription_id, status=status).update(
            status=Status.FAILED, error=error, error_code=code, completed_at=now, deadline_at=None, updated_at=now
        )
        if not failed:
            transaction.set_rollback(True)
        else:
            _record_event(transcription_id, TRANSCRIPTION_FAILED)
            _delete_audio_after_commit(transcription_id)
    return bool(failed)


def _delete_audio_after_commit(transcription_id: UUID) -> None:
    """With AUDIO_DELETE_AFTER_TRANSCRIPTION, the job's original audio goes once the transaction that
    ends the job commits."""
    if settings.AUDIO_DELETE_AFTER_TRANSCRIPTION:
        transaction.on_commit(partial(_original_audio_delete, transcription_id), robust=True)


def _original_audio_delete(transcription_id: UUID) -> None:
    """Delete an ended job's original audio as `DELETE /api/audio/{id}/` does. The job keeps the
    audio's name and duration, and its redacted copy, a file of its own. Audio another job has been
    asked for meanwhile stays: that job's end deletes it. A failure here (the database away) leaves
    the audio to retention."""
    job = Transcription.objects.select_related("audio_file").filter(pk=transcription_id).first()
    if job is None or job.audio_file is None:  # deleted already, by its user or another job's end
        return
    try:
        audio_file_delete(audio_file=job.audio_file)
    except (AudioInUse, AudioFile.DoesNotExist):
        return


def _record_event(transcription_id: UUID, event_type: str) -> None:
    """Tell the user's webhooks, in the transaction that finishes the job (they are sent after it commits)."""
    job = Transcription.objects.get(pk=transcription_id)
    data = {
        "id": str(job.pk),
        "status": job.status,
        "source": job.source,
        "audio_file": str(job.audio_file_id) if job.audio_file_id else None,
        "engine": job.engine,
        "model": job.model,
        "billable_minutes": str(job.billable_minutes),
        "amount": str(job.amount),
        "currency": settings.CURRENCY,
        "error_code": job.error_code,
        "error": job.error,
        "created_at": job.created_at.isoformat(),
        "completed_at": job.completed_at.isoformat() if job.completed_at else None,
    }
    webhook_event_record(user_id=job.user_id, event_type=event_type, data=data, url=job.webhook_url)


@dataclass(frozen=True)
class ReapReport:
    requeued: list[UUID] = field(default_factory=list)
    failed: list[UUID] = field(default_factory=list)


def transcription_reap(*, now: datetime | None = None) -> ReapReport:
    """Finish what crashes left behind: every `pending` or `processing` job past its deadline, and
    every `processing` one whose heartbeat stopped (its process died), however long its audio.

    A job gets one more run while `requeues` is below `MAX_REQUEUES`: queued again, nothing charged.
    After that it fails with its hold released: `transcription_not_started` when no worker took
    it in time, `transcription_interrupted` when its worker died or hung.

    Safe from beat, cron and a shell at once, and beside running workers: each step is a conditional
    update on the state the reaper read, so one reaper wins it, and a job that finishes or is taken
    meanwhile is left alone. A late result of a reaped run is dropped (see `_complete`).
    """
    now = now or timezone.now()
    report = ReapReport()
    still_due = transcription_reapable(now=now)
    due = Transcription.objects.filter(still_due).values_list(
        "pk", "status", "requeues", "engine", "audio_duration_seconds"
    )
    for transcription_id, status, requeues, engine, duration_seconds in list(due):
        unchanged = Q(status=status, requeues=requeues) & still_due
        if requeues < MAX_REQUEUES:
            if _requeue(transcription_id, duration_seconds=duration_seconds, now=now, only_if=unchanged):
                report.requeued.append(transcription_id)
            continue
        reason = TranscriptionNotStarted if status == Status.PENDING else TranscriptionInterrupted
        if _fail(transcription_id, code=reason.code, error=reason.default_detail, status=status, only_if=unchanged):
            metrics.transcriptions_total.labels(status=Status.FAILED, engine=engine).inc()
            report.failed.append(transcription_id)
    return report


def _requeue(transcription_id: UUID, *, duration_seconds: Decimal, now: datetime, only_if: Q) -> bool:
    with transaction.atomic():
        requeued = Transcription.objects.filter(only_if, pk=transcription_id).update(
            status=Status.PENDING,
            requeues=F("requeues") + 1,
            run_id="",
            progress=0,
            heartbeat_at=None,
            deadline_at=now + timedelta(seconds=settings.TRANSCRIPTION_QUEUE_TIMEOUT_SECONDS),
            updated_at=now,
        )
        if requeued:
            limits = transcription_time_limits(duration_seconds=duration_seconds)
            transaction.on_commit(partial(_publish_or_log, transcription_id, limits=limits))
    return bool(requeued)


def _publish_or_log(transcription_id: UUID, *, limits: TimeLimits) -> None:
    # Not queued now, the job stays pending and fails at its new deadline.
    try:
        _publish(transcription_id, limits=limits)
    except Exception:
        logger.exception("Could not queue transcription %s again", transcription_id)


# What a deleted transcript keeps of its user's words and links: nothing.
ERASED: dict[str, Any] = {
    "text": "",
    "segments": None,
    "keywords": [],
    "prompt": "",
    "redacted_audio": "",
    "audio_filename": "",
    "idempotency_key": None,
    "webhook_url": "",
}


def transcription_delete(*, transcription: Transcription) -> None:
    """Erase a finished job's transcript (text, segments with their words, the audio's name, its
    webhook URL) for good.

    The row stays, marked `deleted_at`, as the ledger's record of what was held and charged for it;
    its idempotency key is freed. One conditional update, so a worker finishing at the same moment
    either finishes first (then this erases its result) or finds the job gone from `processing`.
    Raises `TranscriptionActive` while it is pending or processing, `TranscriptionNotFound` when it
    was deleted already.
    """
    now = timezone.now()
    with transaction.atomic():
        names = list(Transcription.objects.filter(pk=transcription.pk).values_list("redacted_audio", flat=True))
        erased = (
            Transcription.objects.filter(pk=transcription.pk, deleted_at__isnull=True)
            .exclude(status__in=ACTIVE_STATUSES)
            .update(**ERASED, deleted_at=now, updated_at=now)
        )
        if erased:
            _forget_redacted_audio(names)
            return
    transcription.refresh_from_db(fields=["status", "deleted_at"])
    if transcription.deleted_at is not None:
        raise TranscriptionNotFound()
    raise TranscriptionActive()


def transcription_erase_all(*, user: User) -> None:
    """Erase every transcript of the user, as `transcription_delete` does one (account deletion).
    Raises `TranscriptionActive`, erasing nothing, while a job of the user is pending or processing."""
    if Transcription.objects.filter(user=user, status__in=ACTIVE_STATUSES).exists():
        raise TranscriptionActive("A transcription of yours is still running; try again once it has ended.")
    now = timezone.now()
    with transaction.atomic():
        jobs = Transcription.objects.filter(user=user, deleted_at__isnull=True)
        names = list(jobs.exclude(redacted_audio="").values_list("redacted_audio", flat=True))
        jobs.update(**ERASED, deleted_at=now, updated_at=now)
        _forget_redacted_audio(names)


def transcription_redacted_audio_open(*, transcription: Transcription) -> "File[Any]":
    """The redacted copy of a job's audio, open for reading. Raises `NoRedactedAudio` when none was
    asked for, the job has not completed, or the copy is deleted; `StoredFileUnavailable`."""
    if not transcription.redacted_audio:
        raise NoRedactedAudio()
    return stored_file_open(name=transcription.redacted_audio)


def _forget_redacted_audio(names: Sequence[str]) -> None:
    """Delete the redacted copies of audio once the caller's transaction commits."""
    for name in names:
        if name:
            stored_file_forget(name=name)


def transcription_requeue(*, transcription: Transcription) -> Transcription:
    """An operator's hand on a stuck job: queue it again now, as the reaper would at its deadline
    (counted in `requeues`, nothing charged twice). Raises `TranscriptionNotActive`."""
    if transcription.status not in ACTIVE_STATUSES:
        raise TranscriptionNotActive()
    unchanged = Q(status=transcription.status, requeues=transcription.requeues)
    if not _requeue(
        transcription.pk, duration_seconds=transcription.audio_duration_seconds, now=timezone.now(), only_if=unchanged
    ):
        raise TranscriptionNotActive("It changed meanwhile; look again.")
    return _reloaded(transcription)


def transcription_stop(*, transcription: Transcription) -> Transcription:
    """An operator's hand on a stuck job: fail it now and release its hold, nothing charged. A
    worker still running it finds it failed and its result is dropped. Raises `TranscriptionNotActive`."""
    if transcription.status not in ACTIVE_STATUSES:
        raise TranscriptionNotActive()
    stopped = TranscriptionStopped
    if not _fail(transcription.pk, code=stopped.code, error=stopped.default_detail, status=transcription.status):
        raise TranscriptionNotActive("It changed meanwhile; look again.")
    return _reloaded(transcription)


def transcription_retry(*, transcription: Transcription) -> Transcription:
    """A new job, paid like any request, for the audio of a failed one (which stays as it was).

    Raises `TranscriptionNotRetryable`, and whatever `transcription_create` raises.
    """
    if transcription.status != Status.FAILED or transcription.audio_file_id is None:
        raise TranscriptionNotRetryable()
    job, _ = transcription_create(
        user=transcription.user,
        audio_file_id=transcription.audio_file_id,
        task=transcription.task,
        language=transcription.language,
        language_confidence_threshold=transcription.language_confidence_threshold,
        keywords=transcription.keywords,
        prompt=transcription.prompt,
        timestamps=transcription.timestamps,
        speaker_labels=transcription.speaker_labels,
        speakers_expected=transcription.speakers_expected,
        webhook_url=transcription.webhook_url,
        # What was to be redacted is redacted again: a retry never stores what the first job would not.
        redact_pii=transcription.redact_pii,
        redact_pii_policies=transcription.redact_pii_policies,
        redact_pii_sub=transcription.redact_pii_sub,
        redact_pii_audio=transcription.redact_pii_audio,
        redact_pii_audio_method=transcription.redact_pii_audio_method,
    )
    return job


def transcription_refund(*, transcription: Transcription, reason: str, created_by: User | None = None) -> Transaction:
    """Give back what a completed transcription cost, once (`NothingToRefund` otherwise)."""
    return wallet_refund(subject=wallet_subject(transcription.pk), reason=reason, created_by=created_by)


def purge_expired_redacted_copies(sender: type[AudioFile], *, cutoff: datetime, **kwargs: Any) -> None:
    """Receives `audio_expiring`: a redacted copy of audio made (its job completed) before `cutoff`
    goes, as uploads go `AUDIO_RETENTION_DAYS` after upload. It outlives its original, which its user,
    retention or AUDIO_DELETE_AFTER_TRANSCRIPTION may delete first. Each copy in its own conditional
    update, so a job deleted meanwhile (which forgets its copy itself) is left alone."""
    # `redacted_audio > ''` walks the index over the copies that exist, not the whole table.
    expired = Transcription.objects.filter(redacted_audio__gt="", completed_at__lt=cutoff)
    for transcription_id, name in list(expired.values_list("pk", "redacted_audio")):
        with transaction.atomic():
            if Transcription.objects.filter(pk=transcription_id, redacted_audio=name).update(redacted_audio=""):
                stored_file_forget(name=name)


def refuse_deleting_audio_in_use(sender: type[AudioFile], *, audio_file: AudioFile, **kwargs: Any) -> None:
    """Receives `audio_file_deleting`: audio that a job is waiting for or working on stays."""
    if audio_has_active_transcription(audio_file_id=audio_file.pk):
        raise AudioInUse()
