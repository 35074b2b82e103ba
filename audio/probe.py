"""What an audio file is, judged by its bytes alone.

The container is recognised from its leading bytes (never from the file's name or the client's
content type). The duration is read from the headers with mutagen, without decoding; ffprobe reads
WebM, which mutagen does not know. A header can announce more than the file holds (an upload cut
short keeps the header of the whole recording), so the last few seconds of packets are demuxed with
ffprobe to check that the audio really ends where the header says. Only where no header gives a
duration (a WebM written by a browser's MediaRecorder, say) are all packets read to find the end.
"""

import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.conf import settings
from mutagen.flac import FLAC
from mutagen.mp3 import MONO, MP3
from mutagen.mp4 import MP4, MP4NoTrackError
from mutagen.oggopus import OggOpus
from mutagen.oggvorbis import OggVorbis
from mutagen.wave import WAVE

from audio.exceptions import InvalidAudio, UnsupportedFormat

MILLISECOND = Decimal("0.001")
# Encoder priming and padding put a header's duration and the last packet's end a few tens of
# milliseconds apart; a second is far more, and far less than any real truncation.
END_TOLERANCE_SECONDS = Decimal(1)
# How far before the announced end the check starts reading packets.
TAIL_SECONDS = Decimal(3)
FFPROBE_TIMEOUT_SECONDS = 60
MAX_ID3_TAGS = 8


@dataclass(frozen=True)
class AudioProbe:
    format: str  # also the stored file's extension, one OpenAI accepts
    duration_seconds: Decimal


@dataclass(frozen=True)
class Container:
    format: str
    demuxer: str  # ffprobe's name for it, forced so that ffprobe never guesses from a name
    # Reads the length in seconds from the headers (with mutagen); None where mutagen cannot.
    header_length: Callable[[str | Path], float] | None


def _mutagen_length(kind) -> Callable[[str | Path], float]:
    return lambda path: kind(path).info.length


def _mp3_length(path: str | Path) -> float:
    """The length from the Xing/Info header, less the encoder delay and padding that FFmpeg records
    in its LAME-style tag (mutagen subtracts them only from tags LAME itself wrote)."""
    info: Any = MP3(path).info  # mutagen declares `info` on its base class only
    mono = info.mode == MONO
    side_info_size = (17 if mono else 32) if info.version == 1 else (9 if mono else 17)
    with open(path, "rb") as file:
        file.seek(info.frame_offset + 4 + side_info_size)
        tag = file.read(160)
    if tag[:4] not in (b"Xing", b"Info"):
        return info.length
    flags = int.from_bytes(tag[4:8], "big")
    # Frames, bytes, table of contents and quality come first, each only if its flag is set.
    vendor = 8 + 4 * bool(flags & 1) + 4 * bool(flags & 2) + 100 * bool(flags & 4) + 4 * bool(flags & 8)
    if tag[vendor : vendor + 3] != b"Lav":
        return info.length
    delay_and_padding = int.from_bytes(tag[vendor + 21 : vendor + 24], "big")  # 12 bits each
    samples = (delay_and_padding >> 12) + (delay_and_padding & 0xFFF)
    return max(info.length - samples / info.sample_rate, 0)


FLAC_CONTAINER = Container("flac", "flac", _mutagen_length(FLAC))
MP3_CONTAINER = Container("mp3", "mp3", _mp3_length)
M4A_CONTAINER = Container("m4a", "mov", _mutagen_length(MP4))
MP4_CONTAINER = Container("mp4", "mov", _mutagen_length(MP4))
OPUS_CONTAINER = Container("ogg", "ogg", _mutagen_length(OggOpus))
VORBIS_CONTAINER = Container("ogg", "ogg", _mutagen_length(OggVorbis))
WAV_CONTAINER = Container("wav", "wav", _mutagen_length(WAVE))
WEBM_CONTAINER = Container("webm", "matroska", None)


def probe_audio(path: str | Path) -> AudioProbe:
    """Identify an audio file and measure its duration. Raises UnsupportedFormat or InvalidAudio."""
    container = sniff_container(path)
    announced = read_duration(container, path)
    if announced is None:
        duration = _stream_end(container, path, start=Decimal(0))
    else:
        end = _stream_end(container, path, start=max(announced - TAIL_SECONDS, Decimal(0)))
        if end is None or end < announced - END_TOLERANCE_SECONDS:
            raise InvalidAudio(
                "The audio stops before the length its header announces: the file is truncated or corrupt."
            )
        # More audio than announced (MP3 files joined end to end, say): measure all of it.
        duration = (
            announced if end <= announced + END_TOLERANCE_SECONDS else _stream_end(container, path, start=Decimal(0))
        )
    if duration is None or duration <= 0:
        raise InvalidAudio("The file holds no audio.")
    return AudioProbe(format=container.format, duration_seconds=duration)


def sniff_container(path: str | Path) -> Container:
    """The container, from the file's leading bytes. Raises UnsupportedFormat."""
    with open(path, "rb") as file:
        head = file.read(64)
        for _ in range(MAX_ID3_TAGS):  # ID3v2 tags (some writers stack several) may precede MP3 or FLAC data
            if not (head.startswith(b"ID3") and len(head) >= 10):
                break
            file.seek(file.tell() - len(head) + _id3v2_tag_size(head))
            head = file.read(64)
    if head.startswith(b"fLaC"):
        return FLAC_CONTAINER
    if head.startswith(b"OggS") and b"OpusHead" in head:
        return OPUS_CONTAINER
    if head.startswith(b"OggS") and b"\x01vorbis" in head:
        return VORBIS_CONTAINER
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return WAV_CONTAINER
    if head[4:8] == b"ftyp":
        return M4A_CONTAINER if head[8:12] == b"M4A " else MP4_CONTAINER
    if head.startswith(b"\x1a\x45\xdf\xa3") and b"webm" in head:  # EBML header with DocType "webm"
        return WEBM_CONTAINER
    if _is_mpeg_layer3_frame(head):
        return MP3_CONTAINER
    raise UnsupportedFormat()


def read_duration(container: Container, path: str | Path) -> Decimal | None:
    """The duration the headers announce, without decoding; None when they do not say.
    Raises UnsupportedFormat (no audio track) or InvalidAudio (unreadable headers)."""
    if container.header_length is None:
        return _ffprobe_duration(container, path)
    try:
        length = container.header_length(path)
    except MP4NoTrackError as exc:
        raise UnsupportedFormat("The file has no audio track.") from exc
    except Exception as exc:  # mutagen parsing untrusted bytes: any failure means they are not valid audio
        raise InvalidAudio() from exc
    return _seconds(length) if length and length > 0 else None


def _id3v2_tag_size(head: bytes) -> int:
    syncsafe = head[6:10]
    size = (syncsafe[0] & 0x7F) << 21 | (syncsafe[1] & 0x7F) << 14 | (syncsafe[2] & 0x7F) << 7 | syncsafe[3] & 0x7F
    has_footer = head[5] & 0x10
    return 10 + size + (10 if has_footer else 0)


def _is_mpeg_layer3_frame(head: bytes) -> bool:
    # 11 sync bits, an MPEG version other than the reserved one, and layer III.
    return (
        len(head) >= 4
        and head[0] == 0xFF
        and head[1] & 0xE0 == 0xE0
        and (head[1] >> 3) & 0b11 != 0b01
        and (head[1] >> 1) & 0b11 == 0b01
    )


def _seconds(value) -> Decimal | None:
    try:
        return Decimal(str(value)).quantize(MILLISECOND)
    except InvalidOperation:  # "N/A", "nan"
        return None


def _ffprobe(container: Container, path: str | Path, *args: str) -> str:
    command = [
        "ffprobe",
        "-v",
        "error",
        "-protocol_whitelist",
        "file",
        "-f",
        container.demuxer,
        "-select_streams",
        "a:0",
        *args,
        "-i",
        f"file:{path}",
    ]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=FFPROBE_TIMEOUT_SECONDS, check=False)  # noqa: S603
    except subprocess.TimeoutExpired as exc:
        raise InvalidAudio() from exc
    if result.returncode != 0:
        raise InvalidAudio()
    return result.stdout


def _ffprobe_duration(container: Container, path: str | Path) -> Decimal | None:
    output = _ffprobe(container, path, "-show_entries", "stream=codec_type:format=duration", "-of", "flat")
    fields = dict(line.split("=", 1) for line in output.splitlines() if "=" in line)
    if fields.get("streams.stream.0.codec_type") != '"audio"':
        raise UnsupportedFormat("The file has no audio track.")
    duration = _seconds(fields.get("format.duration", "").strip('"'))
    return duration if duration and duration > 0 else None


def _stream_end(container: Container, path: str | Path, *, start: Decimal) -> Decimal | None:
    """Where the last audio packet at or after `start` ends, by demuxing (not decoding) the packets.
    Raises UnsupportedFormat when there is no audio stream.

    Reads up to a few seconds past `start` (or, from the beginning, a little more than the longest
    allowed recording), so a file holding far more than its header announces is not read to its end.
    That end is absolute: a seek lands on the packet or block before `start` (WebM's come every 5 s),
    and an end relative to where it landed could stop short of the last packet.
    """
    interval = f"{start}%{start + 2 * TAIL_SECONDS}" if start > 0 else f"%+{settings.MAX_AUDIO_MINUTES * 60 + 60}"
    output = _ffprobe(
        container,
        path,
        "-read_intervals",
        interval,
        "-show_entries",
        "stream=codec_type:packet=pts_time,duration_time",
        "-of",
        "csv",
    )
    has_audio, end = False, None
    for line in output.splitlines():
        section, *values = line.split(",")
        if section == "stream":
            has_audio = values[:1] == ["audio"]
        elif section == "packet" and len(values) >= 2:
            pts, duration = _seconds(values[0]), _seconds(values[1])
            if pts is not None and duration is not None:
                end = pts + duration
    if not has_audio:
        raise UnsupportedFormat("The file has no audio track.")
    return end
