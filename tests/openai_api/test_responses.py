"""OpenAI's response bodies from a transcript, on their own; and each shape as the schema declares it."""

from decimal import Decimal

import pytest

from openai_api import responses
from openai_api.responses import Transcript
from openai_api.serializers import (
    OpenAITranscriptionDiarizedSerializer,
    OpenAITranscriptionSerializer,
    OpenAITranscriptionVerboseSerializer,
)

SEGMENTS = [
    {
        "start": 0.0,
        "end": 1.5,
        "text": "Hello there.",
        "speaker": "A",
        "words": [
            {"word": "Hello", "start": 0.0, "end": 0.6, "probability": 0.9},
            {"word": "there.", "start": 0.7, "end": 1.5, "probability": 0.8},
        ],
    },
    {"start": 1.5, "end": 3.25, "text": "Hi.", "speaker": "B", "words": []},
]
TRANSCRIPT = Transcript(text="Hello there. Hi.", segments=SEGMENTS, duration_seconds=Decimal("3.250"), language="en")


@pytest.mark.parametrize(("seconds", "billed"), [("3.250", 4), ("90.000", 90), ("0.001", 1), ("59.999", 60)])
def test_usage_is_the_audios_seconds_rounded_up_as_billed(seconds, billed):
    assert responses.usage(Decimal(seconds)) == {"type": "duration", "seconds": billed}


def test_json_is_the_text_and_usage():
    assert responses.json_body(TRANSCRIPT) == {"text": "Hello there. Hi.", "usage": {"type": "duration", "seconds": 4}}


def test_verbose_json_has_openais_segment_fields_and_words_when_asked():
    body = responses.verbose_json_body(TRANSCRIPT, segments=True, words=True)

    assert body == {
        "task": "transcribe",
        "language": "en",
        "duration": 3.25,
        "text": "Hello there. Hi.",
        "segments": [
            {"id": 0, "start": 0.0, "end": 1.5, "text": "Hello there."},
            {"id": 1, "start": 1.5, "end": 3.25, "text": "Hi."},
        ],
        "words": [{"word": "Hello", "start": 0.0, "end": 0.6}, {"word": "there.", "start": 0.7, "end": 1.5}],
        "usage": {"type": "duration", "seconds": 4},
    }
    assert "words" not in responses.verbose_json_body(TRANSCRIPT)
    assert "segments" not in responses.verbose_json_body(TRANSCRIPT, segments=False, words=True)


def test_diarized_json_labels_each_segment_with_its_speaker():
    body = responses.diarized_json_body(TRANSCRIPT)

    assert [(s["type"], s["id"], s["speaker"], s["text"]) for s in body["segments"]] == [
        ("transcript.text.segment", "seg_0", "A", "Hello there."),
        ("transcript.text.segment", "seg_1", "B", "Hi."),
    ]
    assert (body["task"], body["duration"], body["text"]) == ("transcribe", 3.25, "Hello there. Hi.")


def test_the_stream_is_a_delta_a_segment_then_the_whole_text_with_usage():
    events = responses.stream_events(TRANSCRIPT)

    assert events == [
        {"type": "transcript.text.delta", "delta": "Hello there."},
        {"type": "transcript.text.delta", "delta": " Hi."},
        {"type": "transcript.text.done", "text": "Hello there. Hi.", "usage": {"type": "duration", "seconds": 4}},
    ]


def test_a_transcript_without_segments_streams_its_text_in_one_delta():
    events = responses.stream_events(Transcript("Just text.", None, Decimal("2"), ""))

    assert [event["type"] for event in events] == ["transcript.text.delta", "transcript.text.done"]


@pytest.mark.parametrize(
    ("body", "declared"),
    [
        (responses.json_body(TRANSCRIPT), OpenAITranscriptionSerializer),
        (responses.verbose_json_body(TRANSCRIPT, words=True), OpenAITranscriptionVerboseSerializer),
        (responses.diarized_json_body(TRANSCRIPT), OpenAITranscriptionDiarizedSerializer),
    ],
)
def test_each_body_has_the_fields_the_schema_declares(body, declared):
    assert set(body) == set(declared().fields)
