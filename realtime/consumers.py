"""A live transcription session over a WebSocket, in OpenAI's Realtime transcription protocol.

This module owns the protocol and the session's timing only: reading events, keeping the
uncommitted audio, answering events. The record, the money and the engine belong to
`transcriptions.live`, called off the event loop: the database through `database_sync_to_async`,
voice activity detection and the engine on thread pools of their own, the engine's bounded by
REALTIME_TRANSCRIBE_CONCURRENCY for the whole process.

Sessions share nothing but the database: no channel layer, any process can serve any session.
"""

import asyncio
import json
import logging
import time
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from functools import partial
from typing import Any
from urllib.parse import parse_qs

import numpy as np
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from accounts.selectors import api_key_is_live
from config.exceptions import DomainError
from realtime import protocol
from realtime.handshake import handshake_caller, origin_allowed
from realtime.pcm import ENGINE_RATE, InvalidAudio, Resampler, pcm16_decode
from transcriptions.live import (
    LiveSession,
    TurnDetector,
    live_session_configure,
    live_session_cover,
    live_session_finish,
    live_session_heartbeat,
    live_session_record,
    live_session_start,
    live_utterance_transcribe,
)
from transcriptions.turns import SpeechPaused, SpeechStarted, SpeechStopped, TurnEvent, TurnOptions

logger = logging.getLogger(__name__)

# Whisper runs use every core they may: more at once only queue for the CPU.
_engine_threads = ThreadPoolExecutor(
    max_workers=settings.REALTIME_TRANSCRIBE_CONCURRENCY, thread_name_prefix="live-engine"
)
_vad_threads = ThreadPoolExecutor(max_workers=2, thread_name_prefix="live-vad")
# Utterances on the engine threads now (the event loop's count: one loop a process). A paused turn's
# text is worked out ahead only when this is 0, so that guessing never delays a real utterance.
_engine_runs = 0
# Sessions settling after their socket closed: kept here so that nothing (such as a server's
# timeout for closed connections) cancels them, and referenced so they are not collected.
_settling: set["asyncio.Task[None]"] = set()
MIN_COMMIT_SAMPLES = ENGINE_RATE // 10  # OpenAI's minimum: 100 ms


class TranscriptionSession(AsyncWebsocketConsumer):  # type: ignore[misc]  # channels ships no types
    session: LiveSession | None = None

    # --- Handshake ---------------------------------------------------------------------------

    async def connect(self) -> None:
        headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in self.scope["headers"]}
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        if query.get("intent") != ["transcription"]:
            await self.close()  # before accepting: the handshake is refused (403)
            return
        if not origin_allowed(origin=headers.get("origin"), host=headers.get("host")):
            await self.close()
            return
        offered = self.scope.get("subprotocols") or []
        caller = await database_sync_to_async(handshake_caller)(
            authorization=headers.get("authorization", ""), subprotocols=offered
        )
        if caller is None:
            await self.close()
            return
        user, self.api_key_id, asked = caller
        await self.accept("realtime" if "realtime" in offered else None)
        self.ending = False
        self.closed = False
        try:
            self.session = await database_sync_to_async(live_session_start)(user=user)
        except DomainError as exc:
            code = "insufficient_quota" if exc.code == "insufficient_balance" else exc.code
            await self._send(protocol.error_event(code, f"{exc.detail} The session cannot start."))
            await self.close(code=1000)  # as every end; daphne refuses 1008 and would send 1011
            self.closed = True
            return
        self.session_id = f"sess_{self.session.transcription_id.hex}"
        self.engine_name, self.model = self.session.engine, self.session.model
        self.config = protocol.SessionConfig()
        self.configured = False
        self.resampler = Resampler(self.config.rate)
        self.detector: TurnDetector | None = None
        self.detector_origin = 0
        self.buffer: list[np.ndarray] = []
        self.buffer_start = 0  # the stream's sample (16 kHz) where the uncommitted audio starts
        self.stream_end = 0
        self.item_id: str | None = None  # the utterance being spoken (server VAD)
        self.previous_item_id: str | None = None
        self.received_seconds = 0.0
        self.covered_seconds = self.session.covered_seconds
        self.billed_samples = 0  # audio paid for: committed, or silence the detector passed over
        self.failed_samples = 0  # committed audio the engine could not transcribe: not paid for
        self.segments: list[Any] = []  # every utterance's, on the session's clock
        # A paused turn's text worked out ahead: (its first sample, its samples' count, the run).
        self.ahead: tuple[int, int, asyncio.Future[Any]] | None = None
        self.redactions: dict[str, int] | None = None  # identifiers taken out, per kind, when it redacts
        self.last_event = time.monotonic()
        self.queue: asyncio.Queue[tuple[str, np.ndarray, int, int] | None] = asyncio.Queue()
        self.transcriber = asyncio.ensure_future(self._transcribe_each())
        self.watchers = [asyncio.ensure_future(self._heartbeat()), asyncio.ensure_future(self._watch_idle())]
        body = protocol.session_body(self.session_id, self.config)
        await self._send(protocol.server_event("session.created", session=body))
        if asked is not None:  # the settings its one-use secret was asked with
            try:
                await self._session_update({"type": "session.update", "session": asked})
            except protocol.ProtocolError as exc:  # the model or language, checked only now
                await self._send(protocol.error_event(exc.code, exc.message, param=exc.param))

    # --- Client events -------------------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.session is None or self.ending:
            return
        self.last_event = time.monotonic()
        size = len(bytes_data) if bytes_data is not None else len(text_data or "")
        try:
            if size > settings.REALTIME_MAX_FRAME_BYTES:
                raise protocol.ProtocolError(
                    "frame_too_large",
                    f"A frame may carry at most {settings.REALTIME_MAX_FRAME_BYTES} bytes; send audio in smaller "
                    "appends (a few hundred milliseconds each).",
                )
            if bytes_data is not None:
                raise protocol.ProtocolError("unsupported_frame", "Events are JSON in text frames, not binary frames.")
            event = protocol.event_parse(text_data or "")
            handler = {
                "session.update": self._session_update,
                "input_audio_buffer.append": self._append,
                "input_audio_buffer.commit": self._commit,
                "input_audio_buffer.clear": self._clear,
            }[event["type"]]
            await handler(event)
        except protocol.ProtocolError as exc:
            await self._send(protocol.error_event(exc.code, exc.message, param=exc.param, event_id=exc.event_id))

    async def _session_update(self, event: dict[str, Any]) -> None:
        config = protocol.session_config_update(self.config, event)
        if config.redaction != self.config.redaction and self.received_seconds:
            # One record, one rule: a transcript is redacted throughout or not at all.
            raise protocol.ProtocolError(
                "unsupported_option",
                "Redaction is set before the first audio and stays as it is for the whole session.",
                param="session.audio.input.transcription.redact_pii",
                event_id=event.get("event_id"),
            )
        before = (self.config.model, self.config.language, self.config.prompt, self.config.redaction)
        if (config.model, config.language, config.prompt, config.redaction) != before:
            assert self.session is not None
            redaction = config.redaction
            try:
                self.engine_name, self.model = await database_sync_to_async(live_session_configure)(
                    transcription_id=self.session.transcription_id,
                    model=config.model,
                    language=config.language,
                    prompt=config.prompt,
                    redact_pii=redaction is not None,
                    redact_pii_policies=redaction.policies if redaction else (),
                    redact_pii_sub=redaction.substitution if redaction else "",
                )
            except DomainError as exc:
                code = "model_not_found" if exc.code == "unsupported_model" else exc.code
                param = {"model_not_found": "model", "unsupported_language": "language"}.get(code)
                if param is None:  # unsupported_option: the prompt's, or else the redaction's
                    param = exc.extra.get("param", "redact_pii")
                raise protocol.ProtocolError(
                    code, exc.detail, param=f"session.audio.input.transcription.{param}", event_id=event.get("event_id")
                ) from exc
        if config.rate != self.config.rate:
            self.resampler = Resampler(config.rate)
        if config.turn_detection != self.config.turn_detection or self.detector is None:
            await self._flush_turn()
            self.detector = None
            if config.turn_detection is not None:
                turn = config.turn_detection
                options = TurnOptions(
                    threshold=turn.threshold,
                    prefix_padding_ms=turn.prefix_padding_ms,
                    silence_duration_ms=turn.silence_duration_ms,
                )
                self.detector = await self._off_loop(_vad_threads, partial(TurnDetector, options))
                self.detector_origin = self.stream_end
        self.config = config
        self.configured = True
        self.ahead = None  # worked out with the settings before
        body = protocol.session_body(self.session_id, config)
        await self._send(protocol.server_event("session.updated", session=body))

    async def _append(self, event: dict[str, Any]) -> None:
        event_id = event.get("event_id")
        if not self.configured:
            raise protocol.ProtocolError(
                "session_not_configured",
                "Send `session.update` with the audio format (and turn detection) before any audio.",
                event_id=event_id,
            )
        audio = event.get("audio")
        if not isinstance(audio, str):
            raise protocol.ProtocolError("invalid_value", "`audio` is base64 text.", param="audio", event_id=event_id)
        try:
            data = pcm16_decode(audio)
        except InvalidAudio as exc:
            raise protocol.ProtocolError("invalid_base64", str(exc), param="audio", event_id=event_id) from exc
        rate = self.config.rate
        seconds = len(data) / 2 / rate
        limit = settings.REALTIME_MAX_MINUTES * 60
        stop: tuple[str, str] | None = None
        if self.received_seconds + seconds > self.covered_seconds:
            assert self.session is not None
            try:
                self.covered_seconds = await database_sync_to_async(live_session_cover)(
                    transcription_id=self.session.transcription_id, seconds=self.received_seconds + seconds
                )
            except DomainError as exc:
                if exc.code != "insufficient_balance":
                    raise
                stop = ("insufficient_quota", f"{exc.detail} The session ends; the audio before this is transcribed.")
            except Exception:  # the database away: no more audio can be paid for
                logger.exception("Live session %s: the hold could not be extended", self.session_id)
                stop = ("service_unavailable", "The service is briefly unavailable: the session ends.")
        room = min(self.covered_seconds, limit) - self.received_seconds
        if seconds > room:
            data = data[: max(0, int(room * rate)) * 2]
            seconds = len(data) / 2 / rate
            if stop is None:
                minutes = settings.REALTIME_MAX_MINUTES
                stop = ("session_max_duration", f"A session takes at most {minutes} minutes of audio.")
        self.received_seconds += seconds
        if data:
            await self._take_audio(self.resampler.feed(data))
        if stop is not None:
            await self._end_with_error(*stop)

    async def _take_audio(self, samples: np.ndarray) -> None:
        self.buffer.append(samples)
        self.stream_end += len(samples)
        if self.detector is None:
            # A client that never commits cannot make the server hold an hour of audio.
            if self.stream_end - self.buffer_start >= settings.REALTIME_MAX_UNCOMMITTED_SECONDS * ENGINE_RATE:
                await self._commit_audio(protocol.new_id("item"), self._take(self.buffer_start, self.stream_end))
            return
        events = await self._off_loop(_vad_threads, partial(self.detector.feed, samples))
        await self._turn_events(events)
        if self.item_id is None:  # silence: keep only what a next utterance's padding may need
            assert self.config.turn_detection is not None
            keep = self.config.turn_detection.prefix_padding_ms * ENGINE_RATE // 1000 + ENGINE_RATE // 2
            if self.stream_end - self.buffer_start > keep * 2:
                self._take(self.buffer_start, self.stream_end - keep)

    async def _turn_events(self, events: list[TurnEvent]) -> None:
        for turn in events:
            if isinstance(turn, SpeechStarted):
                self.item_id = protocol.new_id("item")
                start = self.detector_origin + turn.sample
                await self._send(
                    protocol.server_event(
                        "input_audio_buffer.speech_started",
                        audio_start_ms=start * 1000 // ENGINE_RATE,
                        item_id=self.item_id,
                    )
                )
            elif isinstance(turn, SpeechPaused):
                self._work_ahead(self.detector_origin + turn.start, self.detector_origin + turn.end)
            elif isinstance(turn, SpeechStopped):
                item_id = self.item_id or protocol.new_id("item")
                self.item_id = None
                start, end = self.detector_origin + turn.start, self.detector_origin + turn.end
                await self._send(
                    protocol.server_event(
                        "input_audio_buffer.speech_stopped", audio_end_ms=end * 1000 // ENGINE_RATE, item_id=item_id
                    )
                )
                self._take(self.buffer_start, max(start, self.buffer_start))  # the silence before it
                await self._commit_audio(item_id, self._take(self.buffer_start, max(end, self.buffer_start)))

    async def _commit(self, event: dict[str, Any]) -> None:
        if self.stream_end - self.buffer_start < MIN_COMMIT_SAMPLES:
            raise protocol.ProtocolError(
                "input_audio_buffer_commit_empty",
                "The buffer holds less than 100 ms of audio: nothing to commit.",
                event_id=event.get("event_id"),
            )
        item_id = self.item_id or protocol.new_id("item")
        self.item_id = None
        if self.detector is not None:  # the open turn ends here
            self.detector.flush()
        await self._commit_audio(item_id, self._take(self.buffer_start, self.stream_end))

    async def _clear(self, event: dict[str, Any]) -> None:
        self.buffer = []
        self.buffer_start = self.stream_end  # thrown away unheard: not paid for
        self.item_id = None
        if self.detector is not None:
            self.detector.flush()
        await self._send(protocol.server_event("input_audio_buffer.cleared"))

    def _take(self, start: int, end: int) -> np.ndarray:
        """The uncommitted audio from `start` to `end` (stream samples); everything before `end` leaves
        the buffer and is paid for."""
        audio = np.concatenate(self.buffer) if self.buffer else np.zeros(0, dtype=np.float32)
        taken = audio[start - self.buffer_start : end - self.buffer_start]
        self.buffer = [audio[end - self.buffer_start :]]
        self.billed_samples += end - self.buffer_start
        self.buffer_start = end
        return taken

    async def _commit_audio(self, item_id: str, samples: np.ndarray) -> None:
        await self._send(
            protocol.server_event(
                "input_audio_buffer.committed", previous_item_id=self.previous_item_id, item_id=item_id
            )
        )
        self.previous_item_id = item_id
        start = self.buffer_start - len(samples)
        await self.queue.put((item_id, samples, start, self.billed_samples))

    # --- Transcription, in commit order ---------------------------------------------------------

    async def _transcribe_each(self) -> None:
        assert self.session is not None
        while (item := await self.queue.get()) is not None:
            item_id, samples, start, billed_through = item
            ahead, self.ahead = self.ahead, None
            try:
                if ahead is not None and ahead[:2] == (start, len(samples)):  # the turn ended where it paused
                    result = await ahead[2]
                else:
                    result = await self._engine_run(samples)
            except DomainError as exc:
                self.failed_samples += len(samples)
                await self._send(
                    protocol.server_event(
                        "conversation.item.input_audio_transcription.failed",
                        item_id=item_id,
                        content_index=0,
                        error={"type": "server_error", "code": exc.code, "message": exc.detail, "param": None},
                    )
                )
                continue
            except Exception:
                logger.exception("Live session %s: an utterance failed", self.session_id)
                self.failed_samples += len(samples)
                continue
            segments = [segment.shifted(start / ENGINE_RATE) for segment in result.segments]
            self.segments += segments
            if result.redactions is not None:  # every kind asked for, 0 too: the session's totals
                self.redactions = {
                    kind: (self.redactions or {}).get(kind, 0) + n for kind, n in result.redactions.items()
                }
            try:
                await database_sync_to_async(live_session_record)(
                    transcription_id=self.session.transcription_id,
                    segments=segments,
                    billed_seconds=_seconds(billed_through - self.failed_samples),
                    redactions=self.redactions,
                )
            except Exception:  # the end writes every segment again; a crash before it charges less
                logger.warning("Live session %s: an utterance could not be recorded yet", self.session_id)
            if result.text:
                await self._send(
                    protocol.server_event(
                        "conversation.item.input_audio_transcription.delta",
                        item_id=item_id,
                        content_index=0,
                        delta=result.text,
                    )
                )
            await self._send(
                protocol.server_event(
                    "conversation.item.input_audio_transcription.completed",
                    item_id=item_id,
                    content_index=0,
                    transcript=result.text,
                    usage={"type": "duration", "seconds": round(len(samples) / ENGINE_RATE, 3)},
                )
            )

    # --- Watchers ---------------------------------------------------------------------------------

    async def _heartbeat(self) -> None:
        assert self.session is not None
        while True:
            await asyncio.sleep(settings.TRANSCRIPTION_HEARTBEAT_SECONDS)
            try:
                alive = await database_sync_to_async(live_session_heartbeat)(
                    transcription_id=self.session.transcription_id
                )
                # A revoked key is refused at once by every request; a session it opened ends at its next beat.
                key_live = self.api_key_id is None or await database_sync_to_async(api_key_is_live)(
                    api_key_id=self.api_key_id
                )
            except Exception:  # the next beat tries again; the timeout spans several
                logger.warning("Live session %s: heartbeat not recorded", self.session_id)
                continue
            if not alive:
                await self._end_with_error("session_expired", "This session was closed by the server.")
                return
            if not key_live:
                await self._end_with_error(
                    "invalid_api_key",
                    "The API key this session was opened with was revoked: the session ends. What was sent "
                    "before is transcribed and paid for.",
                )
                return

    async def _watch_idle(self) -> None:
        while True:
            idle = time.monotonic() - self.last_event
            if idle >= settings.REALTIME_IDLE_SECONDS:
                await self._end_with_error(
                    "idle_timeout", f"No event for {settings.REALTIME_IDLE_SECONDS} seconds: the session ends."
                )
                return
            await asyncio.sleep(settings.REALTIME_IDLE_SECONDS - idle + 0.05)

    # --- The end --------------------------------------------------------------------------------

    async def _end_with_error(self, code: str, message: str) -> None:
        if self.ending:
            return
        await self._send(protocol.error_event(code, message))
        await self._settle()
        self.closed = True
        await self.close(code=1000)

    async def disconnect(self, code: int) -> None:
        self.closed = True
        if self.session is None or self.ending:
            return
        # The client left: what it sent is transcribed, kept and paid for without it.
        _detached(self._settle())

    async def _flush_turn(self) -> None:
        if self.detector is not None:
            await self._turn_events(self.detector.flush())

    async def _settle(self) -> None:
        """Transcribe what was committed (and, with server VAD, the utterance being spoken), then
        complete the record and settle its money. Once."""
        if self.ending:
            return
        self.ending = True
        assert self.session is not None
        for watcher in self.watchers:
            if watcher is not asyncio.current_task():
                watcher.cancel()
        try:
            if self.detector is not None:
                await self._flush_turn()
                self._take(self.buffer_start, self.stream_end)  # the silence after the last utterance
            await self.queue.put(None)
            await self.transcriber
        finally:
            billed = _seconds(self.billed_samples - self.failed_samples)
            await database_sync_to_async(live_session_finish)(
                transcription_id=self.session.transcription_id,
                billed_seconds=billed,
                segments=self.segments,
                redactions=self.redactions,
            )

    # --- Helpers ----------------------------------------------------------------------------------

    async def _send(self, event: dict[str, Any]) -> None:
        if not getattr(self, "closed", False):
            await self.send(text_data=json.dumps(event))

    async def _off_loop(self, pool: ThreadPoolExecutor, work: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(pool, work)

    def _engine_run(self, samples: np.ndarray) -> "asyncio.Future[Any]":
        """One utterance on the engine threads, with the session's settings as they are now."""
        global _engine_runs
        redaction = self.config.redaction
        work = partial(
            live_utterance_transcribe,
            engine_name=self.engine_name,
            model=self.model,
            samples=samples,
            language=self.config.language,
            prompt=self.config.prompt,
            redact_pii_policies=redaction.policies if redaction else None,
            redact_pii_sub=redaction.substitution if redaction else "",
        )
        _engine_runs += 1
        run = asyncio.get_running_loop().run_in_executor(_engine_threads, work)
        run.add_done_callback(_engine_run_done)
        return run

    def _work_ahead(self, start: int, end: int) -> None:
        """The open turn paused: start on its text as it would be committed if it ends here (the same
        samples, see `_turn_events`), while the engine has nothing else to do. Whatever it gives is
        thrown away if the speaker goes on (or the settings change)."""
        self.ahead = None
        start, end = max(start, self.buffer_start), max(end, self.buffer_start)
        if _engine_runs or not self.queue.empty() or end - start < MIN_COMMIT_SAMPLES:
            return
        audio = np.concatenate(self.buffer) if len(self.buffer) != 1 else self.buffer[0]
        self.buffer = [audio]
        samples = audio[start - self.buffer_start : end - self.buffer_start].copy()
        self.ahead = (start, len(samples), self._engine_run(samples))


def _engine_run_done(run: "asyncio.Future[Any]") -> None:
    global _engine_runs
    _engine_runs -= 1
    if not run.cancelled():
        run.exception()  # retrieved: a run worked out ahead and thrown away may have failed unawaited


def _seconds(samples: int) -> Decimal:
    return (Decimal(max(samples, 0)) / ENGINE_RATE).quantize(Decimal("0.001"))


def _detached(coroutine: Coroutine[Any, Any, None]) -> None:
    task = asyncio.ensure_future(coroutine)
    _settling.add(task)
    task.add_done_callback(_settled)


def _settled(task: "asyncio.Task[None]") -> None:
    _settling.discard(task)
    if not task.cancelled() and task.exception() is not None:
        # The record stays `processing` and stops beating: the reaper settles it from what it wrote.
        logger.error("A live session could not be settled; the reaper will", exc_info=task.exception())
