"""OpenAI's response bodies, from a finished transcript as plain values: `json`, `verbose_json`,
`diarized_json`, the streaming events, and the model objects. (`text`, `srt` and `vtt` are the
transcript documents of `transcriptions.exports`.)

Plain functions: what they are given is all they know. `serializers.py` declares the same shapes
for the OpenAPI schema.
"""

from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from typing import Any

from openai_api import sse


@dataclass(frozen=True)
class Transcript:
    text: str
    # As jobs store them: `start`, `end`, `text`, and `speaker` and `words` when asked for; None
    # when the model gave no timestamps.
    segments: list[dict[str, Any]] | None
    duration_seconds: Decimal
    language: str  # the ISO-639-1 code asked for, else the one detected ("" when the model does not say)
    task: str = "transcribe"  # or "translate": the text is in English


def usage(duration_seconds: Decimal) -> dict[str, Any]:
    """What was billed, as OpenAI reports it for audio models: the audio's whole seconds, rounded up
    (the seconds our per-minute price is counted from)."""
    return {"type": "duration", "seconds": int(duration_seconds.to_integral_value(ROUND_CEILING))}


def json_body(transcript: Transcript) -> dict[str, Any]:
    return {"text": transcript.text, "usage": usage(transcript.duration_seconds)}


def verbose_json_body(transcript: Transcript, *, segments: bool = True, words: bool = False) -> dict[str, Any]:
    """`segments` and `words` as `timestamp_granularities` asks. A segment has OpenAI's `id`,
    `start`, `end` and `text`; the decoder statistics OpenAI adds (`tokens`, `avg_logprob`,
    `compression_ratio`, `no_speech_prob`, `seek`, `temperature`) are not kept, so not made up."""
    body: dict[str, Any] = {
        "task": transcript.task,
        "language": transcript.language,
        "duration": float(transcript.duration_seconds),
        "text": transcript.text,
    }
    stored = transcript.segments or []
    if segments:
        body["segments"] = [
            {"id": index, "start": segment["start"], "end": segment["end"], "text": segment["text"]}
            for index, segment in enumerate(stored)
        ]
    if words:
        body["words"] = [
            {"word": word["word"], "start": word["start"], "end": word["end"]}
            for segment in stored
            for word in segment.get("words", [])
        ]
    body["usage"] = usage(transcript.duration_seconds)
    return body


def diarized_json_body(transcript: Transcript) -> dict[str, Any]:
    """Segments with the speaker's label (`A`, `B`, ... in order of first appearance)."""
    return {
        "task": transcript.task,
        "duration": float(transcript.duration_seconds),
        "text": transcript.text,
        "segments": [
            {
                "type": "transcript.text.segment",
                "id": f"seg_{index}",
                "start": segment["start"],
                "end": segment["end"],
                "text": segment["text"],
                "speaker": segment.get("speaker", ""),
            }
            for index, segment in enumerate(transcript.segments or [])
        ],
        "usage": usage(transcript.duration_seconds),
    }


def delta_event(piece: str) -> dict[str, Any]:
    return {"type": "transcript.text.delta", "delta": piece}


def stream_events(transcript: Transcript, *, already_sent: int = 0) -> list[dict[str, Any]]:
    """`transcript.text.delta` for each piece of the text (a segment's) past the first
    `already_sent` (given while the job ran), then one `transcript.text.done` with the whole text
    and the usage."""
    pieces = sse.text_pieces(transcript.text, [segment["text"] for segment in transcript.segments or []])
    return [
        *(delta_event(piece) for piece in pieces[already_sent:]),
        {"type": "transcript.text.done", "text": transcript.text, "usage": usage(transcript.duration_seconds)},
    ]


def model_body(*, model_id: str, owned_by: str, created: int) -> dict[str, Any]:
    return {"id": model_id, "object": "model", "created": created, "owned_by": owned_by}


def model_list_body(models: list[dict[str, Any]]) -> dict[str, Any]:
    return {"object": "list", "data": models}
