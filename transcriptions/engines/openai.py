"""OpenAI's speech-to-text API (or any server speaking it), through the official SDK.

Long audio is cut at pauses into chunks under both of OpenAI's limits (25 MB and, for the gpt-4o
models, about 1,400 s a request), encoded and sent concurrently, and stitched back in order.
Each request is retried by the SDK (rate limits, timeouts, connection and server errors) with
backoff; a chunk that still fails fails the whole job. Speaker labels go chunk after chunk
instead, each chunk naming the voices of the ones before (see SPEAKERS_MODEL).
"""

import base64
import bisect
import copy
import logging
import tempfile
import threading
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import openai
from django.conf import settings

from transcriptions.engines import media
from transcriptions.engines.base import (
    TRANSCRIBE,
    TRANSLATE,
    EngineRejected,
    EngineResult,
    EngineUnavailable,
    ProgressCallback,
    Segment,
    SegmentCallback,
    Word,
)
from transcriptions.engines.languages import language_code
from transcriptions.engines.vocabulary import vocabulary_prompt

logger = logging.getLogger(__name__)

# Under the gpt-4o models' cap of about 1,400 s; at 48 kbit/s such a chunk is ~8 MB, far under 25 MB.
MAX_CHUNK_SECONDS = 1380
# How far before a chunk boundary to look for a pause to cut at.
MAX_SILENCE_SEARCH_SECONDS = 30.0
MIN_TAIL_SECONDS = 2.0
# Whisper reads at most the last 224 tokens of a prompt; ~200 characters of the previous chunk
# are enough to carry names and spelling across a cut.
PROMPT_TAIL_CHARS = 200


@dataclass(frozen=True)
class Vocabulary:
    keywords: tuple[str, ...]
    prompt: str


# A chunk's text, its segments on the chunk's own clock, and the language the model heard in it
# ("" when it does not say).
ChunkResult = tuple[str, list[Segment], str]
# The model that gives word timings: a request for them uses it whatever is configured.
WORDS_MODEL = "whisper-1"
# The one model of OpenAI's translations endpoint (speech in any language to English text). OpenAI
# has announced the endpoint's shutdown for 2027-02-26, and its SDK marks the call deprecated.
TRANSLATION_MODEL = "whisper-1"
# The model that labels speakers (`diarized_json`), whatever is configured. Its labels are its
# own within one request; across chunks a speaker keeps a letter by a clip of their voice, sent
# with the next chunks (`known_speaker_names`/`known_speaker_references`): at most 4, of 2-10 s.
SPEAKERS_MODEL = "gpt-4o-transcribe-diarize"
MAX_KNOWN_SPEAKERS = 4
# OpenAI's speech-to-text models a request may name, besides the configured one.
NAMED_MODELS = ("whisper-1", "gpt-4o-transcribe", "gpt-4o-mini-transcribe", SPEAKERS_MODEL)
REFERENCE_MIN_SECONDS = 2.0
REFERENCE_MAX_SECONDS = 10.0
# Known speakers are named apart from the letters the model gives new ones.
KNOWN_SPEAKER_PREFIX = "speaker_"


class OpenAIEngine:
    name = "openai"

    def __init__(
        self,
        *,
        model: str,
        api_key: str,
        base_url: str | None,
        timeout: float,
        max_retries: int,
        chunk_seconds: int,
        concurrency: int,
    ) -> None:
        self.model = model
        self._client_options: dict[str, Any] = {
            "api_key": api_key,
            "base_url": base_url,
            "timeout": timeout,
            "max_retries": max_retries,
        }
        self.chunk_seconds = min(chunk_seconds, MAX_CHUNK_SECONDS)
        self.concurrency = max(concurrency, 1)

    @classmethod
    def from_settings(cls, *, model: str | None = None) -> "OpenAIEngine":
        return cls(
            model=model or settings.OPENAI_TRANSCRIPTION_MODEL,
            api_key=settings.OPENAI_API_KEY,
            base_url=settings.OPENAI_BASE_URL,
            timeout=settings.OPENAI_TIMEOUT_SECONDS,
            max_retries=settings.OPENAI_MAX_RETRIES,
            chunk_seconds=settings.TRANSCRIPTION_CHUNK_SECONDS,
            concurrency=settings.TRANSCRIPTION_CONCURRENCY,
        )

    @property
    def gives_segments(self) -> bool:
        # gpt-4o-transcribe, gpt-4o-mini-transcribe and gpt-transcribe answer `json` only, without
        # timestamps; whisper-1 (and Whisper on OpenAI-compatible servers) answer `verbose_json`,
        # the diarizing model `diarized_json`.
        return self.model == SPEAKERS_MODEL or not self.model.startswith("gpt-")

    def supports_language(self, language: str) -> bool:
        return True

    def for_words(self) -> "OpenAIEngine":
        """The gpt-4o models give no timings at all: word timings come from whisper-1."""
        if self.gives_segments:
            return self
        engine = copy.copy(self)
        engine.model = WORDS_MODEL
        return engine

    def for_speakers(self) -> "OpenAIEngine":
        engine = copy.copy(self)
        engine.model = SPEAKERS_MODEL
        return engine

    @property
    def takes_vocabulary(self) -> bool:
        """whisper-1 and the gpt-4o models take a `prompt`; the diarizing model does not."""
        return self.model != SPEAKERS_MODEL

    @property
    def gives_language_probability(self) -> bool:
        """OpenAI names the language it heard (`verbose_json`), never how sure it is."""
        return False

    def for_translation(self, *, words: bool) -> "OpenAIEngine | None":
        """OpenAI translates with whisper-1 only (an OpenAI-compatible server's Whisper model too),
        through an endpoint that times segments but not words, and labels no speakers."""
        if words or self.model == SPEAKERS_MODEL:
            return None
        if not self.model.startswith("gpt-"):
            return self
        engine = copy.copy(self)
        engine.model = TRANSLATION_MODEL
        return engine

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
        if (keywords or prompt) and not self.takes_vocabulary:
            raise EngineRejected(f"The model {self.model} takes no keywords or prompt.")
        if min_language_probability is not None:
            raise EngineRejected("OpenAI does not say how sure it is of the language it detects.")
        if task == TRANSLATE and self.for_translation(words=words) is not self:
            raise EngineRejected(f"The model {self.model} cannot translate.")
        with (
            tempfile.TemporaryDirectory(prefix="transcribe-") as workdir,
            openai.OpenAI(**self._client_options) as client,
        ):
            try:
                decoded = media.decode(path, Path(workdir))
            except media.AudioDecodeError as exc:
                raise EngineRejected("The audio could not be decoded.") from exc
            chunks = media.plan_chunks(
                duration=decoded.duration,
                silences=decoded.silences,
                chunk_seconds=self.chunk_seconds,
                search_seconds=min(MAX_SILENCE_SEARCH_SECONDS, self.chunk_seconds / 10),
                min_tail_seconds=MIN_TAIL_SECONDS,
            )
            done = _InOrder(chunks, on_segment if self.gives_segments else None)
            if speakers:
                results = self._transcribe_speakers(
                    client, decoded, chunks, language, speakers_expected, Path(workdir), on_progress, done
                )
            else:
                vocabulary = Vocabulary(keywords=tuple(keywords), prompt=prompt)
                results = self._transcribe_chunks(
                    client, decoded, chunks, language, words, task, vocabulary, Path(workdir), on_progress, done
                )
        result = _stitch(chunks, results, with_segments=self.gives_segments)
        if language:  # asked for, not detected
            return replace(result, language="")
        return result

    def transcribe_utterance(self, *, samples: np.ndarray, language: str | None, prompt: str = "") -> EngineResult:
        """An upload like any file's (16 kHz WAV), so any OpenAI-compatible server serves it."""
        with tempfile.TemporaryDirectory(prefix="utterance-") as workdir:
            path = media.write_wav(samples, Path(workdir) / "utterance.wav")
            return self.transcribe(path=path, language=language, words=False, on_progress=_ignore, prompt=prompt)

    def _transcribe_speakers(
        self,
        client: openai.OpenAI,
        decoded: media.DecodedAudio,
        chunks: list[media.Chunk],
        language: str | None,
        speakers_expected: int | None,
        workdir: Path,
        on_progress: ProgressCallback,
        done: "_InOrder",
    ) -> list[ChunkResult]:
        """One chunk after another, each sent with clips of the speakers met so far (the most
        talkative first, at most `speakers_expected` and 4), so a voice keeps its letter."""
        references: dict[str, str] = {}  # our letter -> a data URL of that speaker's voice
        talk: Counter[str] = Counter()  # our letter -> seconds spoken so far
        letters = 0
        results: list[ChunkResult] = []
        for chunk in chunks:
            audio = media.encode_chunk(decoded, chunk, workdir / f"chunk-{chunk.index:03d}{media.CHUNK_SUFFIX}")
            known = sorted(references, key=lambda letter: -talk[letter])
            known = known[: min(MAX_KNOWN_SPEAKERS, speakers_expected or MAX_KNOWN_SPEAKERS)]
            options: dict[str, Any] = {"response_format": "diarized_json", "chunking_strategy": "auto"}
            if language:
                options["language"] = language
            if known:
                options["known_speaker_names"] = [KNOWN_SPEAKER_PREFIX + letter for letter in known]
                options["known_speaker_references"] = [references[letter] for letter in known]
            response = self._request(client, audio, options)
            new: dict[str, str] = {}  # the model's label of a speaker new in this chunk -> our letter
            segments = []
            for raw in response.segments:
                name = raw.speaker.removeprefix(KNOWN_SPEAKER_PREFIX)
                if not (raw.speaker.startswith(KNOWN_SPEAKER_PREFIX) and name in references):
                    if raw.speaker not in new:
                        new[raw.speaker] = _letter(letters)
                        letters += 1
                    name = new[raw.speaker]
                segments.append(Segment(start=raw.start, end=raw.end, text=raw.text.strip(), speaker=name))
                talk[name] += raw.end - raw.start
            for letter in new.values():
                clip = _reference_clip([segment for segment in segments if segment.speaker == letter], chunk)
                if clip is not None:
                    path = media.encode_chunk(decoded, clip, workdir / f"speaker-{letter}{media.CHUNK_SUFFIX}")
                    references[letter] = "data:audio/mpeg;base64," + base64.b64encode(path.read_bytes()).decode()
            results.append((response.text.strip(), segments, language_code(getattr(response, "language", None))))
            done.add(chunk.index, segments)
            on_progress((chunk.index + 1) / len(chunks))
        return results

    def _transcribe_chunks(
        self,
        client: openai.OpenAI,
        decoded: media.DecodedAudio,
        chunks: list[media.Chunk],
        language: str | None,
        words: bool,
        task: str,
        vocabulary: "Vocabulary",
        workdir: Path,
        on_progress: ProgressCallback,
        done: "_InOrder",
    ) -> list[ChunkResult]:
        results: list[ChunkResult | None] = [None] * len(chunks)
        cancelled = threading.Event()

        def run(chunk: media.Chunk) -> ChunkResult | None:
            if cancelled.is_set():  # another chunk failed for good: the job has failed
                return None
            try:
                audio = media.encode_chunk(decoded, chunk, workdir / f"chunk-{chunk.index:03d}{media.CHUNK_SUFFIX}")
                # The previous chunk's words, if they are already in: a prompt never waits for
                # them, so chunks still go out concurrently.
                previous = results[chunk.index - 1] if chunk.index else None
                previous_text = previous[0][-PROMPT_TAIL_CHARS:] if previous and self.gives_segments else ""
                prompt = vocabulary_prompt(
                    keywords=vocabulary.keywords, prompt=vocabulary.prompt, previous=previous_text
                )
                return self._transcribe_chunk(client, audio, language, prompt, words=words, task=task)
            except BaseException:
                cancelled.set()
                raise

        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(chunks))) as pool:
            futures = {pool.submit(run, chunk): chunk for chunk in chunks}
            pending = set(futures)
            try:
                while pending:
                    finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for future in finished:
                        result = results[futures[future].index] = future.result()
                        if result is not None:
                            done.add(futures[future].index, result[1])
                    on_progress((len(futures) - len(pending)) / len(futures))
            except BaseException:
                cancelled.set()
                pool.shutdown(cancel_futures=True)
                raise
        # Every chunk is in: a chunk gives None only once another has failed, and that raised above.
        return [result for result in results if result is not None]

    def _transcribe_chunk(
        self,
        client: openai.OpenAI,
        audio: Path,
        language: str | None,
        prompt: str | None,
        *,
        words: bool,
        task: str = TRANSCRIBE,
    ) -> ChunkResult:
        options: dict[str, Any] = {}
        if language and task == TRANSCRIBE:  # the translations endpoint takes no language: it detects it
            options["language"] = language
        if prompt:
            options["prompt"] = prompt
        if self.gives_segments:
            options["response_format"] = "verbose_json"
            if task == TRANSCRIBE:
                options["timestamp_granularities"] = ["word", "segment"] if words else ["segment"]
        response = self._request(client, audio, options, task=task)
        segments = [
            Segment(start=s.start, end=s.end, text=s.text.strip()) for s in (getattr(response, "segments", None) or [])
        ]
        if words:
            segments = _with_words(segments, getattr(response, "words", None) or [])
        return response.text.strip(), segments, language_code(getattr(response, "language", None))

    def _request(self, client: openai.OpenAI, audio: Path, options: dict[str, Any], *, task: str = TRANSCRIBE) -> Any:
        endpoint = client.audio.translations if task == TRANSLATE else client.audio.transcriptions
        try:
            with audio.open("rb") as file:
                return endpoint.create(model=self.model, file=(audio.name, file, "audio/mpeg"), **options)
        except openai.APIStatusError as exc:
            raise _status_error(exc) from exc
        except openai.APITimeoutError as exc:
            raise EngineUnavailable("The speech-to-text service did not answer in time.") from exc
        except openai.APIConnectionError as exc:
            raise EngineUnavailable("The speech-to-text service could not be reached.") from exc


def _ignore(fraction: float) -> None:
    return None


def _letter(index: int) -> str:
    """A, B, ... Z, AA, AB, ...: the speakers' letters in order of first appearance."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def _reference_clip(segments: list[Segment], chunk: media.Chunk) -> media.Chunk | None:
    """Where in the recording a speaker is heard alone longest in this chunk, 2-10 s of it; None
    when no segment of theirs is that long (they may get a new letter in a later chunk)."""
    longest = max(segments, key=lambda segment: segment.end - segment.start)
    if longest.end - longest.start < REFERENCE_MIN_SECONDS:
        return None
    start = chunk.start + longest.start
    return media.Chunk(index=-1, start=start, end=start + min(longest.end - longest.start, REFERENCE_MAX_SECONDS))


def _with_words(segments: list[Segment], words: list[Any]) -> list[Segment]:
    """whisper-1 lists the words apart from the segments: each goes to the segment its middle falls
    in (or the last one starting before it). OpenAI gives no word probability."""
    starts = [segment.start for segment in segments]
    grouped: list[list[Word]] = [[] for _ in segments]
    for word in words:
        index = bisect.bisect_right(starts, (word.start + word.end) / 2) - 1
        grouped[max(index, 0)].append(Word(start=word.start, end=word.end, word=word.word.strip(), probability=None))
    return [replace(segment, words=tuple(own)) for segment, own in zip(segments, grouped, strict=True)]


def _status_error(exc: openai.APIStatusError) -> EngineUnavailable | EngineRejected:
    status = exc.status_code
    if status == 429:
        return EngineUnavailable("The speech-to-text service is busy (rate limited).")
    if status >= 500 or status in (408, 409):
        return EngineUnavailable("The speech-to-text service had an error.")
    if status in (401, 403, 404):
        # Our key, our permissions or our model name: nothing the user can change.
        logger.error("OpenAI refused our configuration (%s): %s", status, exc.message)
        return EngineUnavailable("The speech-to-text service is not available.")
    detail = exc.body.get("message") if isinstance(exc.body, dict) else None
    return EngineRejected(f"The speech-to-text service refused this audio: {detail or f'error {status}'}"[:500])


class _InOrder:
    """Gives `on_segment` each chunk's segments, on the recording's clock, once every chunk before
    it is in too: chunks go out concurrently and come back in any order."""

    def __init__(self, chunks: list[media.Chunk], on_segment: SegmentCallback | None) -> None:
        self.chunks, self.on_segment = chunks, on_segment
        self.waiting: dict[int, list[Segment]] = {}
        self.next = 0

    def add(self, index: int, segments: list[Segment]) -> None:
        if self.on_segment is None:
            return
        self.waiting[index] = segments
        while self.next in self.waiting:
            for segment in self.waiting.pop(self.next):
                self.on_segment(segment.shifted(self.chunks[self.next].start))
            self.next += 1


def _stitch(chunks: list[media.Chunk], results: list[ChunkResult], *, with_segments: bool) -> EngineResult:
    """Texts joined in order; segment times moved from each chunk's clock to the recording's."""
    text = " ".join(chunk_text for chunk_text, _, _ in results if chunk_text)
    # The recording's language: the one heard over the most audio.
    heard: dict[str, float] = {}
    for chunk, (_, _, language) in zip(chunks, results, strict=True):
        if language:
            heard[language] = heard.get(language, 0.0) + chunk.duration
    language = max(heard, key=heard.__getitem__) if heard else ""
    if not with_segments:
        return EngineResult(text=text, segments=None, language=language)
    segments = [
        segment.shifted(chunk.start)
        for chunk, (_, chunk_segments, _) in zip(chunks, results, strict=True)
        for segment in chunk_segments
    ]
    return EngineResult(text=text, segments=segments, language=language)
