"""What every engine returns and raises: plain values, no SDK types."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np

# What a request asks of the speech: its text as spoken, or that text in English.
TRANSCRIBE = "transcribe"
TRANSLATE = "translate"

# Called with the fraction of the work done (0.0 to 1.0), always from the calling thread.
ProgressCallback = Callable[[float], None]


@dataclass(frozen=True)
class Word:
    start: float
    end: float
    word: str
    probability: float | None  # None when the model does not say (OpenAI's API)

    def as_dict(self) -> dict[str, Any]:
        return {
            "word": self.word,
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "probability": None if self.probability is None else round(self.probability, 3),
        }


@dataclass(frozen=True)
class Segment:
    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()  # empty unless word timings were asked for
    speaker: str | None = None  # "A", "B", ... when speaker labels were asked for

    def shifted(self, seconds: float) -> "Segment":
        """The same segment on a clock `seconds` later (a chunk's offset in the recording)."""
        return replace(
            self,
            start=self.start + seconds,
            end=self.end + seconds,
            words=tuple(replace(word, start=word.start + seconds, end=word.end + seconds) for word in self.words),
        )

    def as_dict(self) -> dict[str, Any]:
        segment: dict[str, Any] = {"start": round(self.start, 3), "end": round(self.end, 3), "text": self.text}
        if self.speaker is not None:
            segment["speaker"] = self.speaker
        if self.words:
            segment["words"] = [word.as_dict() for word in self.words]
        return segment


# Called with each segment of the result, in order and on the recording's clock, as soon as the
# engine has it (always from the calling thread): what a caller can show before the result is in.
SegmentCallback = Callable[[Segment], None]


@dataclass(frozen=True)
class EngineResult:
    text: str
    segments: list[Segment] | None  # None when the model gives no timestamps
    # When no language was given: the one detected (ISO-639-1), "" when the model does not say (or
    # heard no speech); and how sure it is (0-1), None when the model does not say.
    language: str = ""
    language_probability: float | None = None


class EngineError(Exception):
    """A failure of the speech-to-text step. `message` is safe to show the user."""

    code = "transcription_failed"

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class EngineUnavailable(EngineError):
    """Worth trying again later: rate limits, timeouts, network and server errors, misconfiguration."""

    code = "transcription_engine_unavailable"


class EngineRejected(EngineError):
    """The audio or request itself was refused; sending it again will not help."""

    code = "transcription_rejected"


class LanguageUncertain(EngineError):
    """The language was to be detected, and the model was less sure of it than the request asked."""

    code = "language_uncertain"


class Engine(Protocol):
    name: str
    model: str

    @property
    def gives_segments(self) -> bool:
        """Whether its results have timestamps (segments, and so subtitles)."""
        ...

    def supports_language(self, language: str) -> bool: ...

    def for_words(self) -> "Engine | None":
        """This engine, or its variant that gives word timings (another model); None if it has none."""
        ...

    def for_speakers(self) -> "Engine | None":
        """This engine's variant that labels speakers (another model); None if it has none."""
        ...

    @property
    def takes_vocabulary(self) -> bool:
        """Whether it takes keywords and a prompt (custom vocabulary)."""
        ...

    @property
    def gives_language_probability(self) -> bool:
        """Whether it says how sure it is of the language it detects (and so can be held to a minimum)."""
        ...

    def for_translation(self, *, words: bool) -> "Engine | None":
        """This engine, or its variant that translates speech to English (another model), with word
        timings when `words`; None if it cannot."""
        ...

    def transcribe(
        self,
        *,
        path: Path,
        language: str | None,
        words: bool,
        on_progress: ProgressCallback,
        speakers: bool = False,
        speakers_expected: int | None = None,
        task: str = TRANSCRIBE,
        min_language_probability: float | None = None,
        keywords: Sequence[str] = (),
        prompt: str = "",
        on_segment: SegmentCallback | None = None,
    ) -> EngineResult:
        """`keywords` and `prompt` (only on an engine that `takes_vocabulary`) are put before the
        audio, keywords first when the model's window cannot hold them all. Without `language`,
        the result says the language detected. `min_language_probability` (only on an engine that
        `gives_language_probability`, without `language`) raises `LanguageUncertain` as soon as
        detection is less sure than that. `task` TRANSLATE (only on
        an engine from `for_translation`) gives the text in English; `speakers` (only on an engine
        from `for_speakers`) labels each segment with its speaker; `speakers_expected` is the
        caller's guess of how many there are."""
        ...

    def transcribe_utterance(self, *, samples: np.ndarray, language: str | None, prompt: str = "") -> EngineResult:
        """One utterance of a live stream (16 kHz mono float samples, cut where its speech starts
        and ends), as soon as possible: segments on the utterance's clock, no word timings.
        `prompt` only on an engine that `takes_vocabulary`."""
        ...
