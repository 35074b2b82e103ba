"""ffmpeg, run as a subprocess: one decoding pass, silence detection, and the chunks sent to an engine."""

import logging
import re
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

SAMPLE_RATE = 16_000
# Quieter than this for at least this long counts as a pause between words or sentences.
SILENCE_NOISE = "-35dB"
SILENCE_MIN_SECONDS = 0.3
# Chunks are mp3, mono 16 kHz: 48 kbit/s keeps speech intact at 6 kB a second.
CHUNK_BITRATE = "48k"
CHUNK_SUFFIX = ".mp3"
FFMPEG_TIMEOUT_SECONDS = 600

_SILENCE_RE = re.compile(r"silence_(start|end): (-?\d+(?:\.\d+)?)")


class AudioDecodeError(Exception):
    """ffmpeg could not read the audio."""


@dataclass(frozen=True)
class Silence:
    start: float
    end: float


@dataclass(frozen=True)
class DecodedAudio:
    """The whole recording as 16 kHz mono PCM WAV, where seeking is exact to the sample
    (unlike compressed sources such as VBR mp3, where a seek is an estimate)."""

    path: Path
    duration: float
    silences: list[Silence]


@dataclass(frozen=True)
class Chunk:
    index: int
    start: float
    end: float

    @property
    def duration(self) -> float:
        return self.end - self.start


def _ffmpeg(*args: str) -> str:
    command = ["ffmpeg", "-nostdin", "-hide_banner", "-nostats", *args]
    try:
        completed = subprocess.run(command, capture_output=True, text=True, timeout=FFMPEG_TIMEOUT_SECONDS)  # noqa: S603
    except subprocess.TimeoutExpired as exc:
        raise AudioDecodeError("ffmpeg took too long") from exc
    if completed.returncode != 0:
        last_line = completed.stderr.strip().splitlines()[-1:] or [""]
        logger.warning("ffmpeg failed (%s): %s", completed.returncode, last_line[0])
        raise AudioDecodeError(last_line[0])
    return completed.stderr


def decode(source: Path, workdir: Path) -> DecodedAudio:
    """Decode `source` once into `workdir`, noting every silence on the way."""
    dest = workdir / "decoded.wav"
    log = _ffmpeg(
        "-loglevel",
        "info",
        "-i",
        str(source),
        "-vn",
        "-ac",
        "1",
        "-ar",
        str(SAMPLE_RATE),
        "-af",
        f"silencedetect=noise={SILENCE_NOISE}:d={SILENCE_MIN_SECONDS}",
        "-c:a",
        "pcm_s16le",
        "-y",
        str(dest),
    )
    with wave.open(str(dest), "rb") as wav:
        duration = wav.getnframes() / wav.getframerate()
    if duration <= 0:
        raise AudioDecodeError("no audio")
    return DecodedAudio(path=dest, duration=duration, silences=_parse_silences(log, duration))


def _parse_silences(log: str, duration: float) -> list[Silence]:
    silences, start = [], None
    for kind, value in _SILENCE_RE.findall(log):
        if kind == "start":
            start = max(float(value), 0.0)
        elif start is not None:
            silences.append(Silence(start, float(value)))
            start = None
    if start is not None:  # silent to the end
        silences.append(Silence(start, duration))
    return silences


def plan_chunks(
    *, duration: float, silences: list[Silence], chunk_seconds: float, search_seconds: float, min_tail_seconds: float
) -> list[Chunk]:
    """Cut points at most `chunk_seconds` apart. Each cut is the middle of the longest silence in
    the `search_seconds` before the boundary (at most half a chunk), or the boundary itself when
    there is none. A last
    piece shorter than `min_tail_seconds` stays with the chunk before it rather than go alone."""
    starts = [0.0]
    while duration - starts[-1] > chunk_seconds + min_tail_seconds:
        boundary = starts[-1] + chunk_seconds
        # Never search the first half of the chunk: each cut moves on by at least that much.
        window_start = max(boundary - search_seconds, starts[-1] + chunk_seconds / 2)
        pauses = [
            (max(s.start, window_start), min(s.end, boundary))
            for s in silences
            if s.end > window_start and s.start < boundary
        ]
        if pauses:
            # Longest pause (to a tenth of a second: a likelier sentence end), then the latest.
            start, end = max(pauses, key=lambda pause: (round(pause[1] - pause[0], 1), pause[0]))
            starts.append((start + end) / 2)
        else:
            starts.append(boundary)
    ends = [*starts[1:], duration]
    return [Chunk(index=i, start=start, end=end) for i, (start, end) in enumerate(zip(starts, ends, strict=True))]


def encode_chunk(decoded: DecodedAudio, chunk: Chunk, dest: Path) -> Path:
    """Cut `chunk` out of the decoded audio, compactly encoded; its time 0 is `chunk.start`."""
    _ffmpeg(
        "-loglevel",
        "error",
        "-ss",
        f"{chunk.start:.3f}",
        "-t",
        f"{chunk.duration:.3f}",
        "-i",
        str(decoded.path),
        "-c:a",
        "libmp3lame",
        "-b:a",
        CHUNK_BITRATE,
        "-y",
        str(dest),
    )
    return dest


def read_samples(decoded: DecodedAudio, chunk: Chunk) -> np.ndarray:
    """`chunk` of the decoded audio as float samples in [-1, 1), read from disk on its own."""
    with wave.open(str(decoded.path), "rb") as wav:
        wav.setpos(min(round(chunk.start * SAMPLE_RATE), wav.getnframes()))
        frames = wav.readframes(round(chunk.duration * SAMPLE_RATE))
    return np.frombuffer(frames, dtype="<i2").astype(np.float32) / 32768.0


def write_wav(samples: np.ndarray, dest: Path) -> Path:
    """Float samples in [-1, 1] at 16 kHz as a mono 16-bit PCM WAV file."""
    with wave.open(str(dest), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes((np.clip(samples, -1.0, 1.0) * 32767).astype("<i2").tobytes())
    return dest
