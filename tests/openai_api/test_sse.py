"""The SSE framing, on its own."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openai_api import sse


def test_an_event_is_one_data_line_of_json_and_a_blank_line():
    assert sse.event({"type": "transcript.text.delta", "delta": "नमस्ते\nworld"}) == (
        b'data: {"type":"transcript.text.delta","delta":"' + "नमस्ते".encode() + b'\\nworld"}\n\n'
    )


def test_a_comment_is_one_line_whatever_it_is_given():
    assert sse.comment("processing\n42%") == b": processing 42%\n\n"


@pytest.mark.parametrize(
    ("text", "segments", "pieces"),
    [
        ("Hello world. Bye.", ["Hello world.", "Bye."], ["Hello world.", " Bye."]),
        ("Hello world.", ["Hello", "world."], ["Hello", " world."]),
        ("Joined otherwise.", ["Joined", "other", "wise."], ["Joined otherwise."]),  # segments do not add up
        ("Text only.", [], ["Text only."]),  # a model that gives no segments
        ("", [], []),  # silence
    ],
)
def test_text_is_cut_where_its_segments_meet(text, segments, pieces):
    assert sse.text_pieces(text, segments) == pieces


@given(st.lists(st.text(min_size=1).map(str.strip).filter(bool), max_size=8))
def test_the_pieces_always_join_to_the_text(segments):
    text = " ".join(segments)

    assert "".join(sse.text_pieces(text, segments)) == text
    assert "".join(sse.text_pieces(text + "!", segments)) == text + "!"


@given(st.lists(st.dictionaries(st.text(max_size=5), st.text(max_size=20), max_size=3), max_size=5))
def test_parse_reads_back_what_was_framed_and_skips_comments(events):
    stream = sse.comment("pending 0%") + b"".join(sse.event(event) + sse.comment("keep-alive") for event in events)

    assert sse.parse(stream) == [json.loads(json.dumps(event)) for event in events]
