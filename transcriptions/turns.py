"""Where utterances begin and end in a live stream, from the voice activity detector's speech
probability of each window (Silero VAD: 512 samples at 16 kHz, 32 ms). Plain functions over numbers:
no model, no audio, no clock.

A turn starts at the first window whose probability reaches `threshold`, reported
`prefix_padding_ms` earlier (never before the stream's start); it ends where a run of windows
below `threshold - 0.15` (Silero's own hysteresis) began, once that run has lasted
`silence_duration_ms`. A window at or above `threshold` inside the run ends it. Once the run has
lasted `pause_ms` (shorter than `silence_duration_ms`), the turn is reported paused where it would
end: its text may be worked out ahead, and is what the turn gives if it does end there. A turn that
reaches `max_turn_seconds` is cut there, and a new one starts at once if the speech goes on, so
no utterance outgrows what the engine takes in one pass.
"""

from dataclasses import dataclass

SAMPLE_RATE = 16_000
WINDOW_SAMPLES = 512
HYSTERESIS = 0.15


@dataclass(frozen=True)
class TurnOptions:
    """OpenAI's `server_vad` settings, with its defaults."""

    threshold: float = 0.5
    prefix_padding_ms: int = 300
    silence_duration_ms: int = 500
    max_turn_seconds: float = 28.0
    pause_ms: int = 200


@dataclass(frozen=True)
class TurnState:
    """Where the detector is: windows seen so far, and the open turn if any (sample offsets)."""

    windows: int = 0
    speech_start: int | None = None  # where the open turn's audio starts (padding included)
    silence_start: int | None = None  # where the current run of quiet windows began
    paused: bool = False  # that run was reported (SpeechPaused)


@dataclass(frozen=True)
class SpeechStarted:
    sample: int  # the utterance's audio starts here (padding included)


@dataclass(frozen=True)
class SpeechPaused:
    start: int  # if the turn ends in this pause, it is [start, end)
    end: int


@dataclass(frozen=True)
class SpeechStopped:
    start: int  # the utterance is [start, end)
    end: int


TurnEvent = SpeechStarted | SpeechPaused | SpeechStopped


def turns_detect(
    state: TurnState, probabilities: list[float], options: TurnOptions
) -> tuple[TurnState, list[TurnEvent]]:
    """Feed the probabilities of the next windows; returns the new state and what happened, in order."""
    events: list[TurnEvent] = []
    quiet_below = max(options.threshold - HYSTERESIS, 0.01)
    silence_windows = max(1, -(-options.silence_duration_ms * SAMPLE_RATE // (1000 * WINDOW_SAMPLES)))
    padding = options.prefix_padding_ms * SAMPLE_RATE // 1000
    pause_windows = max(1, -(-options.pause_ms * SAMPLE_RATE // (1000 * WINDOW_SAMPLES)))
    max_samples = int(options.max_turn_seconds * SAMPLE_RATE)
    windows, speech_start, silence_start = state.windows, state.speech_start, state.silence_start
    paused = state.paused
    for probability in probabilities:
        at = windows * WINDOW_SAMPLES
        windows += 1
        if speech_start is None:
            if probability >= options.threshold:
                speech_start, silence_start = max(0, at - padding), None
                events.append(SpeechStarted(sample=speech_start))
            continue
        if probability >= options.threshold:
            silence_start, paused = None, False
        elif probability < quiet_below and silence_start is None:
            silence_start = at
        seen = windows * WINDOW_SAMPLES
        quiet = seen - silence_start if silence_start is not None else 0
        if silence_start is not None and quiet >= silence_windows * WINDOW_SAMPLES:
            events.append(SpeechStopped(start=speech_start, end=silence_start))
            speech_start = silence_start = None
            paused = False
        elif seen - speech_start >= max_samples:
            events.append(SpeechStopped(start=speech_start, end=seen))
            paused = False
            if probability >= options.threshold:  # still speaking: the next utterance starts here
                events.append(SpeechStarted(sample=seen))
                speech_start, silence_start = seen, None
            else:
                speech_start = silence_start = None
        elif silence_start is not None and not paused and quiet >= pause_windows * WINDOW_SAMPLES:
            if pause_windows < silence_windows:  # else the stop itself comes as soon
                events.append(SpeechPaused(start=speech_start, end=silence_start))
            paused = True
    state = TurnState(windows=windows, speech_start=speech_start, silence_start=silence_start, paused=paused)
    return state, events


def turns_flush(state: TurnState) -> tuple[TurnState, list[TurnEvent]]:
    """The stream ended (the client left or the session closed): an open turn ends where its audio does."""
    if state.speech_start is None:
        return state, []
    end = state.silence_start if state.silence_start is not None else state.windows * WINDOW_SAMPLES
    return TurnState(windows=state.windows), [SpeechStopped(start=state.speech_start, end=end)]
