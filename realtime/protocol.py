"""OpenAI's Realtime transcription protocol, as plain data: the session's settings read from a
`session.update`, and the server's events built as dicts. Nothing here knows a socket or a service."""

import json
import secrets
from dataclasses import dataclass, field, replace
from typing import Any

from realtime.pcm import INPUT_RATES
from redaction.transcript import Substitution

CLIENT_EVENTS = frozenset(
    {"session.update", "input_audio_buffer.append", "input_audio_buffer.commit", "input_audio_buffer.clear"}
)


class ProtocolError(Exception):
    """A client event this server refuses: answered with an `error` event, and the session goes on
    unless `closes`."""

    def __init__(self, code: str, message: str, *, param: str | None = None, event_id: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.param = param
        self.event_id = event_id


@dataclass(frozen=True)
class TurnDetection:
    threshold: float = 0.5
    prefix_padding_ms: int = 300
    silence_duration_ms: int = 500


@dataclass(frozen=True)
class Redaction:
    """Personal data taken out of each utterance's text (this server's fields, as on `/v1`)."""

    policies: tuple[str, ...] = ()  # empty: every kind
    substitution: str = ""  # `entity_name` when empty


@dataclass(frozen=True)
class SessionConfig:
    rate: int = 24_000
    model: str = ""
    language: str = ""
    prompt: str = ""
    turn_detection: TurnDetection | None = field(default_factory=TurnDetection)
    redaction: Redaction | None = None


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(10)}"


def event_parse(text: str) -> dict[str, Any]:
    """A client frame as an event with a known `type`; raises `ProtocolError`."""
    try:
        event = json.loads(text)
    except ValueError as exc:
        raise ProtocolError("invalid_json", "The frame is not valid JSON.") from exc
    if not isinstance(event, dict):
        raise ProtocolError("invalid_json", "An event is a JSON object with a `type`.")
    event_id = event.get("event_id") if isinstance(event.get("event_id"), str) else None
    kind = event.get("type")
    if kind not in CLIENT_EVENTS:
        raise ProtocolError(
            "unknown_event",
            (f"Unknown event type {kind!r}" if kind is not None else "The event has no `type`")
            + f"; a transcription session takes {', '.join(sorted(CLIENT_EVENTS))}.",
            param="type",
            event_id=event_id,
        )
    return event


def session_config_update(current: SessionConfig, event: dict[str, Any]) -> SessionConfig:
    """The settings after a `session.update` (GA shape: `session.audio.input.{format,
    transcription, turn_detection}`); what it leaves out stays. Raises `ProtocolError`."""
    event_id = event.get("event_id")
    session = event.get("session")

    def refuse(code: str, message: str, param: str) -> ProtocolError:
        return ProtocolError(code, message, param=param, event_id=event_id)

    if not isinstance(session, dict):
        raise refuse("invalid_value", "`session` must be an object.", "session")
    if session.get("type", "transcription") != "transcription":
        raise refuse(
            "invalid_value", "This endpoint serves transcription sessions only (`type: transcription`).", "session.type"
        )
    audio_input = (session.get("audio") or {}).get("input") or {}
    if not isinstance(audio_input, dict):
        raise refuse("invalid_value", "`session.audio.input` must be an object.", "session.audio.input")
    config = current
    audio_format = audio_input.get("format")
    if audio_format is not None:
        if not isinstance(audio_format, dict) or audio_format.get("type") != "audio/pcm":
            raise refuse(
                "unsupported_audio_format",
                "Audio must be PCM16 mono: `format: {type: audio/pcm, rate: 24000}` (or 16000).",
                "session.audio.input.format.type",
            )
        rate = audio_format.get("rate", 24_000)
        if rate not in INPUT_RATES:
            raise refuse(
                "unsupported_sample_rate",
                f"Sample rate {rate!r} is not served: send PCM16 at 24000 or 16000 Hz.",
                "session.audio.input.format.rate",
            )
        config = replace(config, rate=rate)
    transcription = audio_input.get("transcription")
    if transcription is not None:
        if not isinstance(transcription, dict):
            raise refuse("invalid_value", "`transcription` must be an object.", "session.audio.input.transcription")
        for name in ("model", "language", "prompt"):
            value = transcription.get(name)
            if value is not None and not isinstance(value, str):
                param = f"session.audio.input.transcription.{name}"
                raise refuse("invalid_value", f"`{name}` must be a string.", param)
        config = replace(
            config,
            model=transcription.get("model") or config.model,
            language=transcription.get("language") or "",
            prompt=transcription.get("prompt") or "",
            redaction=_redaction(transcription, refuse) if "redact_pii" in transcription else config.redaction,
        )
    if "turn_detection" in audio_input:
        config = replace(config, turn_detection=_turn_detection(audio_input["turn_detection"], refuse))
    return config


def _redaction(transcription: dict[str, Any], refuse: Any) -> Redaction | None:
    """`redact_pii`, `redact_pii_policies` and `redact_pii_sub`, checked for their types here and
    for their values by the service."""
    param = "session.audio.input.transcription"
    if not isinstance(transcription["redact_pii"], bool):
        raise refuse("invalid_value", "`redact_pii` is true or false.", f"{param}.redact_pii")
    policies = transcription.get("redact_pii_policies") or []
    if not isinstance(policies, list) or not all(isinstance(policy, str) for policy in policies):
        raise refuse("invalid_value", "`redact_pii_policies` is a list of names.", f"{param}.redact_pii_policies")
    substitution = transcription.get("redact_pii_sub") or ""
    if not isinstance(substitution, str):
        raise refuse("invalid_value", "`redact_pii_sub` is a string.", f"{param}.redact_pii_sub")
    if not transcription["redact_pii"]:
        if policies or substitution:
            raise refuse(
                "unsupported_option",
                "Redaction policies and substitution only go with `redact_pii: true`.",
                f"{param}.redact_pii",
            )
        return None
    return Redaction(policies=tuple(sorted(set(policies))), substitution=substitution)


def _turn_detection(value: Any, refuse: Any) -> TurnDetection | None:
    param = "session.audio.input.turn_detection"
    if value is None:
        return None
    if not isinstance(value, dict) or value.get("type", "server_vad") != "server_vad":
        raise refuse("unsupported_value", "Turn detection is `server_vad` or null (manual commits).", f"{param}.type")
    threshold = value.get("threshold", 0.5)
    if not isinstance(threshold, int | float) or isinstance(threshold, bool) or not 0 < threshold < 1:
        raise refuse("invalid_value", "`threshold` is a number between 0 and 1.", f"{param}.threshold")
    numbers = {}
    for name, default, top in (("prefix_padding_ms", 300, 2000), ("silence_duration_ms", 500, 10_000)):
        number = value.get(name, default)
        if not isinstance(number, int) or isinstance(number, bool) or not 0 <= number <= top:
            raise refuse("invalid_value", f"`{name}` is a whole number from 0 to {top}.", f"{param}.{name}")
        numbers[name] = number
    return TurnDetection(threshold=float(threshold), **numbers)


# --- Server events ---------------------------------------------------------------------------


def server_event(kind: str, **fields: Any) -> dict[str, Any]:
    return {"type": kind, "event_id": new_id("event"), **fields}


def session_body(session_id: str, config: SessionConfig) -> dict[str, Any]:
    turn = config.turn_detection
    return {
        "type": "transcription",
        "object": "realtime.transcription_session",
        "id": session_id,
        "audio": {
            "input": {
                "format": {"type": "audio/pcm", "rate": config.rate},
                "transcription": {
                    "model": config.model or "whisper-1",
                    "language": config.language or None,
                    "prompt": config.prompt,
                    **_redaction_body(config.redaction),
                },
                "noise_reduction": None,
                "turn_detection": None
                if turn is None
                else {
                    "type": "server_vad",
                    "threshold": turn.threshold,
                    "prefix_padding_ms": turn.prefix_padding_ms,
                    "silence_duration_ms": turn.silence_duration_ms,
                },
            }
        },
        "include": None,
    }


def _redaction_body(redaction: Redaction | None) -> dict[str, Any]:
    """Said back only to a session that redacts: the others see OpenAI's shape, field for field."""
    if redaction is None:
        return {}
    return {
        "redact_pii": True,
        "redact_pii_policies": list(redaction.policies),
        "redact_pii_sub": redaction.substitution or Substitution.ENTITY_NAME.value,
    }


def error_event(code: str, message: str, *, param: str | None = None, event_id: str | None = None) -> dict[str, Any]:
    kind = "insufficient_quota" if code == "insufficient_quota" else "invalid_request_error"
    return server_event(
        "error", error={"type": kind, "code": code, "message": message, "param": param, "event_id": event_id}
    )
