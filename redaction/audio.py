"""Redacted audio: the recording with each redacted span, padded, replaced by a 1 kHz beep or by
silence, and everything else as it was. ffmpeg does the work in one streaming pass, so an hour of
audio never sits in memory; this module only builds its filter graph."""

import subprocess
from collections.abc import Sequence
from enum import StrEnum
from itertools import pairwise
from pathlib import Path
from typing import Protocol

PADDING_SECONDS = 0.1
BEEP_HZ = 1000
BEEP_AMPLITUDE = 0.25  # about -12 dBFS: plainly a beep, not painful
# ffmpeg switches a filter on and off a frame at a time: 10 ms frames keep the edges within 10 ms,
# and each span is widened by one frame so that no sample of it is missed.
FRAME_SECONDS = 0.01
FFMPEG_TIMEOUT_SECONDS = 1800
_TERMS_PER_FILTER = 40


class AudioMethod(StrEnum):
    BEEP = "beep"
    SILENCE = "silence"


class AudioRedactionError(Exception):
    """ffmpeg could not read the audio or write the redacted copy."""


class TimeSpan(Protocol):
    @property
    def start(self) -> float: ...
    @property
    def end(self) -> float: ...


def padded_intervals(*, spans: Sequence[TimeSpan], padding: float) -> list[tuple[float, float]]:
    """The spans widened by `padding` each side, from 0 on, overlapping ones merged, in order."""
    intervals: list[tuple[float, float]] = []
    for start, end in sorted((max(0.0, span.start - padding), span.end + padding) for span in spans):
        if intervals and start <= intervals[-1][1]:
            intervals[-1] = (intervals[-1][0], max(intervals[-1][1], end))
        else:
            intervals.append((start, end))
    return intervals


def _run(command: list[str]) -> str:
    try:
        completed = subprocess.run(command, capture_output=True, text=True, timeout=FFMPEG_TIMEOUT_SECONDS)  # noqa: S603
    except subprocess.TimeoutExpired as exc:
        raise AudioRedactionError(f"{command[0]} took too long") from exc
    if completed.returncode != 0:
        raise AudioRedactionError((completed.stderr.strip().splitlines() or [""])[-1])
    return completed.stdout


def _sample_rate(source: Path) -> int:
    output = _run(
        [
            "ffprobe",
            "-v",
            "error",
            "-select_streams",
            "a:0",
            "-show_entries",
            "stream=sample_rate",
            "-of",
            "csv=p=0",
            str(source),
        ]
    )
    try:
        return int(output.strip())
    except ValueError as exc:
        raise AudioRedactionError("no audio stream") from exc


def _muted_where(conditions: list[str]) -> str:
    """Filters that mute the frames where any condition holds. ffmpeg's expressions nest only so
    deep (a sum of a hundred terms is refused), so a long list is cut into several filters."""
    groups = [conditions[i : i + _TERMS_PER_FILTER] for i in range(0, len(conditions), _TERMS_PER_FILTER)]
    return ",".join(f"volume=0:enable='{'+'.join(group)}'" for group in groups) or "anull"


def _gaps(on: list[tuple[float, float]]) -> list[str]:
    """The frames outside every interval, exactly (`between` includes both ends)."""
    if not on:
        return ["1"]
    return [
        f"lt(t,{on[0][0]:.3f})",
        *(f"gt(t,{end:.3f})*lt(t,{start:.3f})" for (_, end), (start, _) in pairwise(on)),
        f"gt(t,{on[-1][1]:.3f})",
    ]


def redact_audio(
    *,
    source: Path,
    destination: Path,
    spans: Sequence[TimeSpan],
    method: AudioMethod = AudioMethod.BEEP,
    padding: float = PADDING_SECONDS,
) -> None:
    """Write `destination` (its format from its suffix): `source` with every span, widened by
    `padding`, a beep or silence. Same duration, sample rate and channels as the source."""
    # Frame start times at which the tone is on: each interval widened by a frame at its start (a
    # frame starting up to one frame before it overlaps it), in milliseconds as ffmpeg will read them.
    on = [
        (round(start - FRAME_SECONDS, 3), round(end, 3))
        for start, end in padded_intervals(spans=spans, padding=padding)
    ]
    inside = [f"between(t,{start:.3f},{end:.3f})" for start, end in on]
    frame = max(1, round(_sample_rate(source) * FRAME_SECONDS))
    chunked = f"[0:a]asetnsamples=n={frame}:p=0"
    if method is AudioMethod.SILENCE:
        graph = f"{chunked},{_muted_where(inside)}[out]"
    else:
        # The speech muted inside the intervals, plus a tone (made on the speech's own clock, so it has
        # its rate, channels and length) muted in the gaps: each sample is one or the other.
        graph = (
            f"{chunked},asplit=2[speech][tone];"
            f"[speech]{_muted_where(inside)}[muted];"
            f"[tone]aeval=exprs='{BEEP_AMPLITUDE}*sin(2*PI*{BEEP_HZ}*t)':channel_layout=same,"
            f"{_muted_where(_gaps(on))}[beep];"
            "[muted][beep]amix=inputs=2:normalize=0:duration=first[out]"
        )
    command = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", str(source)]
    _run([*command, "-filter_complex", graph, "-map", "[out]", "-map_metadata", "-1", str(destination)])
