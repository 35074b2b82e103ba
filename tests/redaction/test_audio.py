"""The redacted audio, measured: same duration, a 1 kHz tone (or silence) over each padded span,
the original samples everywhere else. Speech is real: a LibriVox reading and espeak-ng."""

import subprocess
from pathlib import Path

import numpy as np
import pytest

from redaction.audio import FRAME_SECONDS, PADDING_SECONDS, AudioMethod, AudioRedactionError, redact_audio
from redaction.entities import Entity
from redaction.transcript import Span
from tests.speech import librivox

WINDOW = 0.05  # seconds
SPANS = [Span(entity=Entity.PHONE_NUMBER, start=0.9, end=1.6), Span(entity=Entity.EMAIL_ADDRESS, start=2.5, end=2.8)]
# Where the spans are heard once padded, and where the audio must be untouched (one more frame each
# side, ffmpeg's step in switching the beep on and off).
PADDED = [(span.start - PADDING_SECONDS, span.end + PADDING_SECONDS) for span in SPANS]
UNTOUCHED_MARGIN = 2 * FRAME_SECONDS


def duration(path: Path) -> float:
    output = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return float(output)


def samples(path: Path) -> tuple[np.ndarray, int]:
    """(frames x channels as float, sample rate), decoded as it is."""
    entries = ["-select_streams", "a:0", "-show_entries", "stream=sample_rate,channels", "-of", "csv=p=0"]
    probe = subprocess.run(
        ["ffprobe", "-v", "error", *entries, str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    rate, channels = (int(value) for value in probe.split(","))
    raw = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-f", "f32le", "-acodec", "pcm_f32le", "-"],
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(raw, dtype="<f4").reshape(-1, channels), rate


def windows(rate: int, total: int) -> list[tuple[float, slice]]:
    size = round(rate * WINDOW)
    return [(i / rate, slice(i, i + size)) for i in range(0, total - size + 1, size)]


def inside(start: float) -> bool:
    return any(a <= start and start + WINDOW <= b for a, b in PADDED)


def untouched(start: float) -> bool:
    return all(start + WINDOW <= a - UNTOUCHED_MARGIN or start >= b + UNTOUCHED_MARGIN for a, b in PADDED)


def share_at_1khz(window: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(window * np.hanning(len(window)))) ** 2
    frequencies = np.fft.rfftfreq(len(window), 1 / rate)
    total = spectrum.sum()
    return float(spectrum[np.abs(frequencies - 1000) <= 60].sum() / total) if total else 0.0


@pytest.fixture(params=["librivox", "espeak-stereo"])
def speech(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    if request.param == "librivox":
        return librivox()[0].path  # 16 kHz mono, a person reading
    mono = tmp_path / "mono.wav"
    subprocess.run(["espeak-ng", "-w", str(mono), "My number is nine eight four five zero one two three."], check=True)
    stereo = tmp_path / "stereo.wav"  # 44.1 kHz stereo, as a phone recorder might write it
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(mono), "-ac", "2", "-ar", "44100", str(stereo)], check=True)
    return stereo


def test_each_padded_span_is_a_1khz_beep_and_the_rest_is_the_original(speech: Path, tmp_path: Path) -> None:
    redacted = tmp_path / "redacted.wav"
    redact_audio(source=speech, destination=redacted, spans=SPANS)

    assert duration(redacted) == pytest.approx(duration(speech), abs=0.001)
    original, rate = samples(speech)
    output, output_rate = samples(redacted)
    assert (output_rate, output.shape) == (rate, original.shape)
    beeped = kept = 0
    for start, window in windows(rate, len(original)):
        for channel in range(original.shape[1]):
            if inside(start):
                assert share_at_1khz(output[window, channel], rate) > 0.95, start
                assert np.sqrt(np.mean(output[window, channel] ** 2)) == pytest.approx(0.25 / np.sqrt(2), rel=0.05)
                beeped += 1
            elif untouched(start):
                assert np.abs(output[window, channel] - original[window, channel]).max() < 1e-4, start
                kept += 1
    # The spans are 0.9 s and 0.5 s once padded: at least 26 whole windows a channel, and speech was there.
    assert beeped >= 26 * original.shape[1]
    assert kept >= 20 * original.shape[1]
    assert max(share_at_1khz(original[w, 0], rate) for s, w in windows(rate, len(original)) if inside(s)) < 0.5


def test_silence_mutes_each_padded_span(speech: Path, tmp_path: Path) -> None:
    redacted = tmp_path / "redacted.wav"
    redact_audio(source=speech, destination=redacted, spans=SPANS, method=AudioMethod.SILENCE)

    assert duration(redacted) == pytest.approx(duration(speech), abs=0.001)
    original, rate = samples(speech)
    output, _ = samples(redacted)
    for start, window in windows(rate, len(original)):
        if inside(start):
            assert not output[window].any(), start
        elif untouched(start):
            assert np.abs(output[window] - original[window]).max() < 1e-4, start
    assert any(np.abs(original[w]).max() > 0.05 for s, w in windows(rate, len(original)) if inside(s))


def test_a_hundred_and_twenty_spans_are_each_beeped(tmp_path: Path) -> None:
    # More terms than one ffmpeg expression takes: the beep is spread over several filters.
    source = tmp_path / "noise.wav"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "anoisesrc=d=30:c=pink:a=0.3:r=16000", str(source)], check=True
    )
    spans = [Span(entity=Entity.PHONE_NUMBER, start=0.25 * i + 0.05, end=0.25 * i + 0.15) for i in range(120)]
    redacted = tmp_path / "redacted.wav"
    redact_audio(source=source, destination=redacted, spans=spans, padding=0.02)

    assert duration(redacted) == pytest.approx(duration(source), abs=0.001)
    output, rate = samples(redacted)
    original, _ = samples(source)
    for span in spans:
        heard = output[round((span.start - 0.02) * rate) : round((span.end + 0.02) * rate), 0]
        assert share_at_1khz(heard, rate) > 0.95, span
        between = slice(round((span.end + 0.05) * rate), round((span.end + 0.1) * rate))
        assert np.abs(output[between] - original[between]).max() < 1e-4, span


def test_no_spans_gives_the_audio_unchanged(tmp_path: Path) -> None:
    source = librivox()[1].path
    redacted = tmp_path / "redacted.wav"
    redact_audio(source=source, destination=redacted, spans=[])
    original, _ = samples(source)
    output, _ = samples(redacted)
    assert np.abs(output - original).max() < 1e-4


def test_a_file_without_audio_is_an_error(tmp_path: Path) -> None:
    source = tmp_path / "notes.wav"
    source.write_text("not audio")
    with pytest.raises(AudioRedactionError):
        redact_audio(source=source, destination=tmp_path / "out.wav", spans=SPANS)
