"""Transcripts as files: plain text, SubRip and WebVTT subtitles, JSON, and the CSV of a user's jobs."""

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from django.db.models import QuerySet
from rest_framework import serializers

from transcriptions.exceptions import NoSegments, TranscriptionNotCompleted
from transcriptions.models import Transcription
from transcriptions.selectors import transcription_iter_batched

CONTENT_TYPES = {"txt": "text/plain", "srt": "application/x-subrip", "vtt": "text/vtt", "json": "application/json"}
# A subtitle cue at most this long and this wide when word timings allow cutting a segment up
# (two lines of 42 characters, the common broadcast limit).
CUE_MAX_SECONDS = 7.0
CUE_MAX_CHARS = 84


@dataclass(frozen=True)
class Document:
    content: str
    filename: str
    content_type: str


def transcription_document(*, transcription: Transcription, file_format: str) -> Document:
    """The finished transcript as a `txt`, `srt`, `vtt` or `json` file named after its audio.

    Raises `TranscriptionNotCompleted`, and `NoSegments` for subtitles when the model gave no timestamps.
    """
    if transcription.status != Transcription.Status.COMPLETED:
        raise TranscriptionNotCompleted()
    labelled = any("speaker" in segment for segment in transcription.segments or [])
    if file_format == "txt":
        content = (_by_speaker(transcription.segments or []) if labelled else transcription.text) + "\n"
    elif file_format == "json":
        content = json.dumps(_json_document(transcription), ensure_ascii=False, indent=2) + "\n"
    elif transcription.segments is None:  # the model gave no timestamps (silence gives an empty list)
        raise NoSegments()
    elif file_format == "srt":
        content = "\n".join(
            f"{number}\n{_timestamp(cue['start'], ',')} --> {_timestamp(cue['end'], ',')}\n"
            f"{_speaker_prefix(cue)}{_cue_text(cue['text'])}\n"
            for number, cue in enumerate(cues(transcription.segments), start=1)
        )
    else:
        content = "WEBVTT\n\n" + "\n".join(
            f"{_timestamp(cue['start'], '.')} --> {_timestamp(cue['end'], '.')}\n"
            f"{_voice(cue)}{_cue_text(cue['text'])}\n"
            for cue in cues(transcription.segments)
        )
    stem = Path(transcription.audio_filename).stem or "transcript"
    return Document(content=content, filename=f"{stem}.{file_format}", content_type=CONTENT_TYPES[file_format])


def _json_document(transcription: Transcription) -> dict[str, Any]:
    """The transcript itself (no money): what was transcribed, how, and every segment and word."""
    return {
        "id": str(transcription.pk),
        "audio_filename": transcription.audio_filename,
        "audio_duration_seconds": str(transcription.audio_duration_seconds),
        "task": transcription.task,
        "language": transcription.spoken_language,
        "language_probability": transcription.language_probability,
        "timestamps": transcription.timestamps,
        "speaker_labels": transcription.speaker_labels,
        "speaker_count": transcription.speaker_count,
        "engine": transcription.engine,
        "model": transcription.model,
        "text": transcription.text,
        "segments": transcription.segments,
    }


def cues(segments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Subtitle cues: a segment as it is, or, when it is too long or too wide and its words are
    known, cut between words into cues of at most `CUE_MAX_SECONDS` and `CUE_MAX_CHARS`."""
    result: list[dict[str, Any]] = []
    for segment in segments:
        words = segment.get("words")
        too_big = segment["end"] - segment["start"] > CUE_MAX_SECONDS or len(segment["text"]) > CUE_MAX_CHARS
        if not words or not too_big:
            result.append(segment)
            continue
        group: list[dict[str, Any]] = []
        speaker = {"speaker": segment["speaker"]} if "speaker" in segment else {}
        for word in words:
            candidate = [*group, word]
            if group and (word["end"] - group[0]["start"] > CUE_MAX_SECONDS or len(_joined(candidate)) > CUE_MAX_CHARS):
                result.append({**_cue_of(group), **speaker})
                candidate = [word]
            group = candidate
        result.append({**_cue_of(group), **speaker})
    return result


def _by_speaker(segments: list[dict[str, Any]]) -> str:
    """Plain text with each change of speaker starting a paragraph: `A: ...`."""
    paragraphs: list[tuple[str | None, list[str]]] = []
    for segment in segments:
        speaker = segment.get("speaker")
        if not paragraphs or paragraphs[-1][0] != speaker:
            paragraphs.append((speaker, []))
        paragraphs[-1][1].append(segment["text"])
    return "\n\n".join(f"{speaker}: {' '.join(texts)}" if speaker else " ".join(texts) for speaker, texts in paragraphs)


def _speaker_prefix(cue: dict[str, Any]) -> str:
    return f"{cue['speaker']}: " if "speaker" in cue else ""


def _voice(cue: dict[str, Any]) -> str:
    # WebVTT's voice span names who speaks; `>` and `&` would break the tag.
    return f"<v {_cue_text(cue['speaker']).replace('>', '').replace('&', '')}>" if "speaker" in cue else ""


def _joined(words: list[dict[str, Any]]) -> str:
    return " ".join(word["word"] for word in words)


def _cue_of(words: list[dict[str, Any]]) -> dict[str, Any]:
    return {"start": words[0]["start"], "end": words[-1]["end"], "text": _joined(words)}


def _timestamp(seconds: float, decimal_separator: str) -> str:
    hours, rest = divmod(round(seconds * 1000), 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    whole_seconds, milliseconds = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{whole_seconds:02d}{decimal_separator}{milliseconds:03d}"


def _cue_text(text: str) -> str:
    # One line, and never the cue-timing arrow, which would end the cue early in a player.
    return " ".join(text.split()).replace("-->", "->")


CSV_FIELDS = [
    "id",
    "created_at",
    "completed_at",
    "audio_filename",
    "audio_duration_seconds",
    "status",
    "source",
    "task",
    "language",
    "language_probability",
    "speaker_count",
    "engine",
    "model",
    "billable_minutes",
    "demo_minutes_used",
    "charged_minutes",
    "amount",
    "error",
    "text",
]
CSV_ROWS_PER_CHUNK = 500
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


class _Line:
    """What csv.writer writes to: hands each row back as a string."""

    def write(self, row: str) -> str:
        return row


def _cell(value) -> str:
    text = _TIME.to_representation(value) if isinstance(value, datetime) else "" if value is None else str(value)
    return f"'{text}" if text.startswith(_FORMULA_TRIGGERS) else text


# Times as the API writes them (`2026-12-01T10:00:00Z`), not Python's `+00:00`.
_TIME = serializers.DateTimeField()


def _csv_value(transcription: Transcription, field: str):
    # The language column is the speech's, asked for or detected.
    return transcription.spoken_language if field == "language" else getattr(transcription, field)


def transcription_csv_lines(*, queryset: QuerySet[Transcription]) -> Iterator[str]:
    """The CSV, a few hundred rows at a time: UTF-8 with a byte-order mark so spreadsheets read
    it as UTF-8, cells that would run as formulas defused with a leading apostrophe."""
    writer = csv.writer(_Line())
    lines = ["\ufeff" + writer.writerow(CSV_FIELDS)]
    for transcription in transcription_iter_batched(queryset=queryset, fields=[*CSV_FIELDS, "detected_language"]):
        lines.append(writer.writerow([_cell(_csv_value(transcription, field)) for field in CSV_FIELDS]))
        if len(lines) >= CSV_ROWS_PER_CHUNK:
            yield "".join(lines)
            lines = []
    yield "".join(lines)
