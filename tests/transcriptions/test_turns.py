"""Turn detection over speech probabilities: where live utterances start and end."""

import itertools

from hypothesis import given
from hypothesis import strategies as st

from transcriptions.turns import (
    WINDOW_SAMPLES,
    SpeechPaused,
    SpeechStarted,
    SpeechStopped,
    TurnOptions,
    TurnState,
    turns_detect,
    turns_flush,
)

OPTIONS = TurnOptions(threshold=0.5, prefix_padding_ms=64, silence_duration_ms=96)  # 2 and 3 windows
PAUSING = TurnOptions(threshold=0.5, prefix_padding_ms=0, silence_duration_ms=96, pause_ms=32)  # paused after 1
W = WINDOW_SAMPLES


def test_speech_between_silences_is_one_turn_padded_before_and_ended_where_the_silence_began():
    probabilities = [0.0] * 5 + [0.9] * 4 + [0.0] * 3

    _, events = turns_detect(TurnState(), probabilities, OPTIONS)

    assert events == [SpeechStarted(sample=3 * W), SpeechStopped(start=3 * W, end=9 * W)]


def test_a_pause_shorter_than_the_silence_duration_does_not_end_the_turn():
    probabilities = [0.9] * 3 + [0.0] * 2 + [0.9] * 3 + [0.0] * 3

    _, events = turns_detect(TurnState(), probabilities, OPTIONS)

    assert events == [SpeechStarted(sample=0), SpeechStopped(start=0, end=8 * W)]


def test_probabilities_between_the_two_thresholds_neither_start_nor_end_a_turn():
    assert turns_detect(TurnState(), [0.4] * 10, OPTIONS)[1] == []
    _, events = turns_detect(TurnState(), [0.9] + [0.4] * 10, OPTIONS)
    assert events == [SpeechStarted(sample=0)]


def test_the_same_probabilities_in_any_pieces_give_the_same_turns():
    probabilities = ([0.0] * 4 + [0.8] * 6 + [0.1] * 5) * 3
    _, whole = turns_detect(TurnState(), probabilities, OPTIONS)

    state, pieces = TurnState(), []
    for start in range(0, len(probabilities), 7):
        state, events = turns_detect(state, probabilities[start : start + 7], OPTIONS)
        pieces += events

    assert pieces == whole
    assert len(whole) == 6


def test_a_turn_that_reaches_the_longest_utterance_is_cut_and_the_next_starts_at_once():
    options = TurnOptions(threshold=0.5, prefix_padding_ms=0, silence_duration_ms=96, max_turn_seconds=W * 4 / 16000)

    _, events = turns_detect(TurnState(), [0.9] * 9 + [0.0] * 3, options)

    assert events == [
        SpeechStarted(sample=0),
        SpeechStopped(start=0, end=4 * W),
        SpeechStarted(sample=4 * W),
        SpeechStopped(start=4 * W, end=8 * W),
        SpeechStarted(sample=8 * W),
        SpeechStopped(start=8 * W, end=9 * W),
    ]


def test_flushing_ends_an_open_turn_where_its_audio_ends_and_nothing_otherwise():
    state, _ = turns_detect(TurnState(), [0.9] * 3, OPTIONS)

    state, events = turns_flush(state)

    assert events == [SpeechStopped(start=0, end=3 * W)]
    assert turns_flush(state)[1] == []


@given(st.lists(st.floats(min_value=0, max_value=1), max_size=300))
def test_turns_alternate_start_stop_and_never_overlap(probabilities):
    state, events = turns_detect(TurnState(), probabilities, OPTIONS)
    events += turns_flush(state)[1]

    assert not [event for event in events if isinstance(event, SpeechPaused)]  # 200 ms: never before 96 ms stops
    assert [type(event) for event in events] == [SpeechStarted, SpeechStopped] * (len(events) // 2)
    stops = [event for event in events if isinstance(event, SpeechStopped)]
    assert all(stop.start < stop.end <= len(probabilities) * W for stop in stops)
    assert all(a.end <= b.start for a, b in itertools.pairwise(stops))


def test_a_turn_is_reported_paused_where_it_would_end_then_stopped_there_or_paused_again_later():
    _, ended = turns_detect(TurnState(), [0.9] * 3 + [0.0] * 3, PAUSING)
    _, resumed = turns_detect(TurnState(), [0.9] * 3 + [0.0] * 2 + [0.9] * 3 + [0.0] * 3, PAUSING)

    assert ended == [SpeechStarted(sample=0), SpeechPaused(start=0, end=3 * W), SpeechStopped(start=0, end=3 * W)]
    assert resumed == [
        SpeechStarted(sample=0),
        SpeechPaused(start=0, end=3 * W),
        SpeechPaused(start=0, end=8 * W),
        SpeechStopped(start=0, end=8 * W),
    ]


@given(st.lists(st.floats(min_value=0, max_value=1), max_size=300))
def test_a_turn_that_ends_in_silence_ends_exactly_where_its_last_pause_said(probabilities):
    _, events = turns_detect(TurnState(), probabilities, PAUSING)

    last_pause = None
    for event in events:
        if isinstance(event, SpeechStarted):
            last_pause = None
        elif isinstance(event, SpeechPaused):
            assert last_pause is None or (last_pause.start == event.start and last_pause.end < event.end)
            last_pause = event
        else:
            assert last_pause == SpeechPaused(start=event.start, end=event.end)
