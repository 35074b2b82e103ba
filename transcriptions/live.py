"""Live sessions (`/v1/realtime`): a stream of utterances that becomes one transcription job.

The session's record is a `processing` job of `source=realtime` from its start. Its money follows
the job's rule with a hold that grows: the first minute is held at the start, and one more minute
each time the audio received passes what is held (`wallet_hold_extend`, demo minutes first). At the
end exactly the audio's billable minutes are captured and the rest of the hold is released, in the
transaction that completes the record. Each transcribed utterance is written to the record at once,
with the seconds of audio it covers, and the record beats while the session is open: when the
process dies, the reaper (`live_session_reap`) completes it from what was written, charging that
audio only, within the heartbeat timeout.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from redaction.entities import Entity
from redaction.transcript import Substitution
from transcriptions.engines import EngineError, Segment, get_engine
from transcriptions.engines.vad import StreamingVad
from transcriptions.exceptions import TranscriptionFailed, UnsupportedLanguage, UnsupportedModel, UnsupportedOption
from transcriptions.models import MAX_PROMPT_CHARS, Transcription, wallet_subject
from transcriptions.pii import result_redact
from transcriptions.services import _check_redaction, _count_outcome, _record_event, transcription_models
from transcriptions.turns import TurnEvent, TurnOptions, TurnState, turns_detect, turns_flush
from wallet.services import billable_minutes, wallet_capture, wallet_hold_extend, wallet_release, wallet_reserve
from webhooks.models import TRANSCRIPTION_COMPLETED

logger = logging.getLogger(__name__)

Status = Transcription.Status
ONE_MINUTE = Decimal("1.00")
# Names a client may send for this deployment's default model, as OpenAI's clients do.
DEFAULT_MODEL_ALIASES = frozenset({"", "whisper-1"})


class UtteranceFailed(TranscriptionFailed):
    """The engine could not transcribe one utterance; `code` is the engine's own
    (`transcription_rejected`, `transcription_engine_unavailable`, ...)."""

    def __init__(self, detail: str, *, code: str) -> None:
        super().__init__(detail)
        self.code = code


@dataclass(frozen=True)
class LiveSession:
    transcription_id: UUID
    engine: str
    model: str
    covered_seconds: int  # the audio the hold pays for


@dataclass(frozen=True)
class UtteranceText:
    text: str
    segments: list[Segment]  # on the session's clock
    redactions: dict[str, int] | None = None  # per kind, when the session redacts


def live_session_start(*, user: User, model: str = "", language: str = "") -> LiveSession:
    """Open a session: its record (`processing`, `source=realtime`) and a hold of its first minute.

    Raises, with nothing created: `UnsupportedModel`, `UnsupportedLanguage`, `InsufficientBalance`.
    """
    engine = live_session_engine(model=model, language=language)
    now = timezone.now()
    with transaction.atomic():
        job = Transcription.objects.create(
            user=user,
            audio_filename=f"Live session {now:%Y-%m-%d %H:%M:%S} UTC",
            audio_duration_seconds=Decimal(0),
            status=Status.PROCESSING,
            source=Transcription.Source.REALTIME,
            language=language,
            engine=engine.name,
            model=engine.model,
            billable_minutes=Decimal("0.00"),
            started_at=now,
            heartbeat_at=now,
            deadline_at=_deadline(now),
        )
        wallet_reserve(user=user, subject=wallet_subject(job.pk), minutes=ONE_MINUTE)
    return LiveSession(transcription_id=job.pk, engine=engine.name, model=engine.model, covered_seconds=60)


def live_session_engine(*, model: str, language: str) -> Any:
    """The engine a session with these settings uses. Raises `UnsupportedModel`, `UnsupportedLanguage`."""
    if model not in DEFAULT_MODEL_ALIASES and model not in {choice.name for choice in transcription_models()}:
        raise UnsupportedModel(f"The speech-to-text engine in use has no model {model!r}.")
    engine = get_engine(model=None if model in DEFAULT_MODEL_ALIASES else model)
    if not engine.supports_language(language):
        raise UnsupportedLanguage()
    return engine


def _deadline(now: datetime) -> datetime:
    """However it goes, a session ends by its longest audio, plus the idle time it may sit, plus a margin."""
    seconds = settings.REALTIME_MAX_MINUTES * 60 * 2 + settings.REALTIME_IDLE_SECONDS + 300
    return now + timedelta(seconds=seconds)


def live_session_cover(*, transcription_id: UUID, seconds: float) -> int:
    """Hold enough for `seconds` of audio and a minute's worth ahead (whole minutes, at most
    REALTIME_MAX_MINUTES); returns the seconds now covered. Raises `InsufficientBalance` (the hold
    stays as it was)."""
    minutes = min(int(seconds // 60) + 1, settings.REALTIME_MAX_MINUTES)
    hold = wallet_hold_extend(subject=wallet_subject(transcription_id), minutes=Decimal(minutes))
    return int(hold.billable_minutes * 60)


def live_session_configure(
    *,
    transcription_id: UUID,
    model: str,
    language: str,
    prompt: str,
    redact_pii: bool = False,
    redact_pii_policies: Sequence[str] = (),
    redact_pii_sub: str = "",
) -> tuple[str, str]:
    """The session's settings changed (`session.update`): its record names the engine now used,
    which is returned as (engine, model), and the redaction asked for (as a job's). Raises
    `UnsupportedModel`, `UnsupportedLanguage`, `UnsupportedOption` (a prompt too long or for a model
    that takes none, with `param="prompt"` in its `extra`; an unknown redaction policy or substitution)."""
    engine = live_session_engine(model=model, language=language)
    if len(prompt) > MAX_PROMPT_CHARS:
        raise UnsupportedOption(f"A prompt has at most {MAX_PROMPT_CHARS} characters.", param="prompt")
    if prompt and not engine.takes_vocabulary:
        raise UnsupportedOption(f"The model {engine.model} takes no prompt.", param="prompt")
    _check_redaction(redact_pii=redact_pii, policies=redact_pii_policies, substitution=redact_pii_sub)
    Transcription.objects.filter(pk=transcription_id, status=Status.PROCESSING).update(
        engine=engine.name,
        model=engine.model,
        language=language,
        prompt=prompt,
        redact_pii=redact_pii,
        redact_pii_policies=sorted(set(redact_pii_policies)) if redact_pii else [],
        redact_pii_sub=(redact_pii_sub or Substitution.ENTITY_NAME) if redact_pii else "",
        # Until an utterance is transcribed: none found of each kind asked for, as a job says.
        redactions={e.value: 0 for e in Entity if e.value in redact_pii_policies or not redact_pii_policies}
        if redact_pii
        else None,
        updated_at=timezone.now(),
    )
    return engine.name, engine.model


def live_session_heartbeat(*, transcription_id: UUID) -> bool:
    """The session's process is alive; False when the record is no longer open (the reaper took it)."""
    return bool(
        Transcription.objects.filter(pk=transcription_id, status=Status.PROCESSING).update(heartbeat_at=timezone.now())
    )


def live_session_record(
    *,
    transcription_id: UUID,
    segments: list[Segment],
    billed_seconds: Decimal,
    redactions: dict[str, int] | None = None,
) -> None:
    """Keep an utterance's text in the record as it is transcribed, with the audio paid for so far
    (and, in a session that redacts, the identifiers found so far), so that what a crash leaves is
    charged for exactly what the user got. The session's one writer calls it."""
    job = Transcription.objects.only("text", "segments").get(pk=transcription_id)
    kept = list(job.segments or []) + [segment.as_dict() for segment in segments]
    Transcription.objects.filter(pk=transcription_id, status=Status.PROCESSING).update(
        text=" ".join(segment["text"] for segment in kept),
        segments=kept,
        audio_duration_seconds=billed_seconds,
        redactions=redactions,
        heartbeat_at=timezone.now(),
        updated_at=timezone.now(),
    )


def live_session_finish(
    *,
    transcription_id: UUID,
    billed_seconds: Decimal,
    segments: list[Segment] | None = None,
    redactions: dict[str, int] | None = None,
    only_if: Q | None = None,
) -> bool:
    """Complete the session: capture the billable minutes of `billed_seconds` (demo minutes first)
    and release the rest of the hold, with the record, in one transaction; its webhooks are told.
    `segments`, when given, are the whole session's (on its clock) and replace what was recorded
    utterance by utterance (a write that failed meanwhile is made good), as do `redactions`. Locks the hold and wallet,
    then the record. False (nothing changed) when it was finished already or no longer meets `only_if`."""
    minutes = billable_minutes(billed_seconds)
    subject = wallet_subject(transcription_id)
    with transaction.atomic():
        line = None
        if minutes:
            line = wallet_capture(subject=subject, minutes=minutes, description=f"Live session of {minutes} minutes")
        else:  # no audio: no ledger line
            wallet_release(subject=subject)
        now = timezone.now()
        result: dict[str, Any] = {}
        if segments is not None:
            kept = [segment.as_dict() for segment in segments]
            result = {"text": " ".join(segment["text"] for segment in kept), "segments": kept}
            if redactions is not None:
                result["redactions"] = redactions
        finished = Transcription.objects.filter(only_if or Q(), pk=transcription_id, status=Status.PROCESSING).update(
            **result,
            status=Status.COMPLETED,
            audio_duration_seconds=billed_seconds,
            billable_minutes=minutes,
            demo_minutes_used=-line.demo_minutes if line else Decimal("0.00"),
            charged_minutes=minutes - (-line.demo_minutes if line else Decimal("0.00")),
            amount=-line.amount if line else Decimal("0.00"),
            progress=100,
            completed_at=now,
            deadline_at=None,
            updated_at=now,
        )
        if not finished:
            transaction.set_rollback(True)
            return False
        _record_event(transcription_id, TRANSCRIPTION_COMPLETED)
    _count_outcome(Transcription.objects.get(pk=transcription_id))
    return True


def live_session_reap(*, now: datetime | None = None) -> list[UUID]:
    """Complete every open session whose process stopped beating (or that outlived its deadline),
    from what it wrote: its utterances so far, charged for the audio they cover. Safe beside live
    sessions and other reapers: each finish is conditional on the silence it saw."""
    now = now or timezone.now()
    silent_since = now - timedelta(seconds=settings.TRANSCRIPTION_HEARTBEAT_TIMEOUT_SECONDS)
    still_due = Q(source=Transcription.Source.REALTIME, status=Status.PROCESSING) & (
        Q(heartbeat_at__lt=silent_since) | Q(deadline_at__lt=now)
    )
    reaped = []
    due = Transcription.objects.filter(still_due).values_list("pk", "audio_duration_seconds")
    for transcription_id, seconds in list(due):
        if live_session_finish(transcription_id=transcription_id, billed_seconds=seconds, only_if=still_due):
            logger.warning("Live session %s was settled by the reaper (its process stopped)", transcription_id)
            reaped.append(transcription_id)
    return reaped


# --- Audio: where utterances end, and their text ---------------------------------------------


class TurnDetector:
    """Voice activity detection on one session's stream (16 kHz float32): utterance starts and
    ends, as sample offsets from the stream's start. Call from one thread at a time."""

    def __init__(self, options: TurnOptions) -> None:
        self.options = options
        self._vad = StreamingVad()
        self._state = TurnState()

    def feed(self, samples: np.ndarray) -> list[TurnEvent]:
        self._state, events = turns_detect(self._state, self._vad.feed(samples), self.options)
        return events

    def flush(self) -> list[TurnEvent]:
        self._state, events = turns_flush(self._state)
        return events


def live_utterance_transcribe(
    *,
    engine_name: str,
    model: str,
    samples: np.ndarray,
    language: str,
    prompt: str = "",
    redact_pii_policies: Sequence[str] | None = None,
    redact_pii_sub: str = "",
) -> UtteranceText:
    """One utterance (16 kHz float32) through the session's engine: the offline model this process
    loaded once, or the OpenAI engine's upload; with `redact_pii_policies` (empty: every kind) its
    personal data taken out before anything of it leaves. Blocking: run it off the event loop.
    Raises `UtteranceFailed` with a message safe to show."""
    engine = get_engine(name=engine_name, model=model)
    try:
        result = engine.transcribe_utterance(samples=samples, language=language or None, prompt=prompt)
    except EngineError as exc:
        raise UtteranceFailed(exc.message, code=exc.code) from exc
    redactions = None
    if redact_pii_policies is not None:
        redacted = result_redact(result=result, policies=redact_pii_policies, substitution=redact_pii_sub)
        result, redactions = redacted.result, redacted.counts
    return UtteranceText(text=result.text.strip(), segments=list(result.segments or []), redactions=redactions)
