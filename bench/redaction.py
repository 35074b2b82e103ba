"""Personal data redaction: how long the redaction of an hour of transcript takes, and the audio
redaction's real-time factor.

- Transcript: an hour of speech as an engine returns it (about 9,000 words, 150 a minute, in
  segments of 10 Whisper words with their times), made of the redaction corpus's sentences in turn
  (tests/redaction/corpus.py: every kind of identifier, written and spoken, and near-misses, far
  denser in identifiers than real calls). `redact_transcript` over its text, segment texts and
  words, all kinds asked: min/median/max of `--runs`. Target < 1 s.
- Audio: `--audio-minutes` (default 10) of read speech (the LibriVox utterances, looped) with a
  2 s span redacted every 15 s, written as FLAC, beep and silence: real-time factor min/median/max.

    .venv/bin/python -m bench.redaction [--runs 5] [--audio-minutes 10]
"""

import argparse
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from bench.common import Row, print_rows
from redaction.audio import AudioMethod, redact_audio
from redaction.entities import Entity
from redaction.transcript import Span, redact_transcript
from tests.redaction.corpus import NEAR_MISSES, SPOKEN, WRITTEN
from tests.speech import librivox
from transcriptions.engines.base import Segment, Word

WORDS_A_MINUTE = 150
WORDS_A_SEGMENT = 10
TRANSCRIPT_TARGET_SECONDS = 1.0


def hour_of_transcript() -> tuple[str, list[Segment]]:
    sentence_words = [sample.text.split() for sample in [*WRITTEN, *SPOKEN, *NEAR_MISSES]]
    stream = [word for words in sentence_words for word in words]
    total = WORDS_A_MINUTE * 60
    seconds_a_word = 60 / WORDS_A_MINUTE
    words = [
        Word(i * seconds_a_word, i * seconds_a_word + seconds_a_word * 0.8, f" {stream[i % len(stream)]}", 0.9)
        for i in range(total)
    ]
    segments = []
    for first in range(0, total, WORDS_A_SEGMENT):
        chunk = tuple(words[first : first + WORDS_A_SEGMENT])
        segments.append(Segment(chunk[0].start, chunk[-1].end, "".join(w.word for w in chunk).strip(), chunk))
    return " ".join(segment.text for segment in segments), segments


def _spread(values: list[float], unit: str = "", digits: int = 3) -> str:
    return " / ".join(f"{value:.{digits}f}{unit}" for value in (min(values), statistics.median(values), max(values)))


def transcript(runs: int) -> list[Row]:
    text, segments = hour_of_transcript()
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        redaction = redact_transcript(text=text, segments=segments)
        seconds.append(time.perf_counter() - started)
    found = sum(redaction.counts.values())
    print(f"  an hour: {sum(len(s.words) for s in segments)} words, {found} identifiers redacted", flush=True)
    return [
        Row(
            figure="redaction of an hour of transcript, s (min / median / max)",
            value=_spread(seconds),
            target=f"< {TRANSCRIPT_TARGET_SECONDS:.0f} s",
            met=max(seconds) < TRANSCRIPT_TARGET_SECONDS,
        )
    ]


def audio(minutes: int, runs: int) -> list[Row]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-redaction-") as scratch:
        source = Path(scratch) / "speech.wav"
        utterance = librivox()[0].path
        subprocess.run(
            ["ffmpeg", "-v", "error", "-stream_loop", "-1", "-i", str(utterance), "-t", str(minutes * 60), str(source)],
            check=True,
        )
        spans = [Span(entity=Entity.PHONE_NUMBER, start=t + 5.0, end=t + 7.0) for t in range(0, minutes * 60, 15)]
        for method in AudioMethod:
            factors = []
            for _ in range(runs):
                started = time.perf_counter()
                redact_audio(source=source, destination=Path(scratch) / "out.flac", spans=spans, method=method)
                factors.append((time.perf_counter() - started) / (minutes * 60))
            rows.append(
                Row(
                    figure=f"audio redaction ({method}, {len(spans)} spans, {minutes} min to FLAC), RTF",
                    value=_spread(factors, digits=4),
                )
            )
    return rows


def run(runs: int = 5, audio_minutes: int = 10) -> list[Row]:
    return transcript(runs) + audio(audio_minutes, min(runs, 3))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--audio-minutes", type=int, default=10)
    arguments = parser.parse_args()
    print_rows("Personal data redaction", run(arguments.runs, arguments.audio_minutes))
