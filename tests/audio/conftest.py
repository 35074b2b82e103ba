"""Real audio for the audio tests, made with ffmpeg, sox and espeak-ng, each file once per session."""

import subprocess
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest

# Long MP3s are 8 kbit/s mono at 16 kHz: an hour is 3.6 MB and encodes in a few seconds.
ENCODER_OPTIONS = {
    "mp3": ["-ac", "1", "-b:a", "8k"],
    "flac": [],
    "wav": [],
    "ogg": ["-c:a", "libvorbis"],
    "opus": [],
    "m4a": ["-movflags", "+faststart"],  # the index first, so a truncated copy keeps a readable header
    "webm": [],
}


# Each file extension the tests generate, and the format the service stores it as.
SUPPORTED_FORMATS = [
    ("mp3", "mp3"),
    ("flac", "flac"),
    ("wav", "wav"),
    ("ogg", "ogg"),
    ("opus", "ogg"),
    ("m4a", "m4a"),
    ("webm", "webm"),
]


def ffmpeg(*args: str | Path) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", *args], check=True)


def sine(seconds: float) -> list[str]:
    return ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=16000:duration={seconds}"]


class Samples:
    """Builds sample files on first use and hands back their paths afterwards."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _cached(self, name: str, build) -> Path:
        path = self.root / name
        if not path.exists():
            partial = path.with_name(f"partial-{name}")
            build(partial)
            partial.rename(path)
        return path

    def tone(self, seconds: float, ext: str = "mp3") -> Path:
        """A 440 Hz sine of exactly `seconds`, in the container `ext` names."""
        return self._cached(
            f"tone-{seconds}s.{ext}",
            lambda path: ffmpeg(*sine(seconds), *ENCODER_OPTIONS[ext], "-f", _muxer(ext), path),
        )

    def video_with_audio(self) -> Path:
        return self._cached(
            "video-with-audio.mp4",
            lambda path: ffmpeg(
                "-f",
                "lavfi",
                "-i",
                "testsrc=duration=2:size=64x64:rate=10",
                *sine(2),
                "-c:v",
                "libx264",
                "-c:a",
                "aac",
                "-f",
                "mp4",
                path,
            ),
        )

    def video_only(self) -> Path:
        return self._cached(
            "video-only.mp4",
            lambda path: ffmpeg("-f", "lavfi", "-i", "testsrc=duration=2:size=64x64:rate=10", "-f", "mp4", path),
        )

    def streamed_webm(self, seconds: float) -> Path:
        """WebM written to a pipe, as a browser's MediaRecorder does: no duration in its header."""

        def build(path: Path) -> None:
            with open(path, "wb") as out:
                subprocess.run(
                    ["ffmpeg", "-v", "error", "-nostdin", *sine(seconds), "-c:a", "libopus", "-f", "webm", "pipe:1"],
                    stdout=out,
                    check=True,
                )

        return self._cached(f"streamed-{seconds}s.webm", build)

    def speech(self, ext: str = "wav") -> Path:
        """Spoken English from espeak-ng (WAV), or the same speech converted to `ext`."""
        wav = self._cached(
            "speech.wav",
            lambda path: subprocess.run(
                ["espeak-ng", "-w", str(path), "Please transcribe this short recording of synthetic speech."],
                check=True,
            ),
        )
        if ext == "wav":
            return wav
        return self._cached(
            f"speech.{ext}", lambda path: ffmpeg("-i", wav, *ENCODER_OPTIONS[ext], "-f", _muxer(ext), path)
        )

    def other_audio(self, ext: str) -> Path:
        """Audio in a container OpenAI does not take: raw AAC (ADTS), AIFF, MP2, Matroska, Speex."""
        codec = {"aac": "aac", "aiff": "pcm_s16be", "mp2": "mp2", "mkv": "flac", "spx": "libspeex"}[ext]
        muxer = {"aac": "adts", "aiff": "aiff", "mp2": "mp2", "mkv": "matroska", "spx": "ogg"}[ext]
        return self._cached(f"other.{ext}", lambda path: ffmpeg(*sine(1), "-c:a", codec, "-f", muxer, path))

    def silence_of_no_length(self) -> Path:
        """A valid WAV header with no samples after it."""
        return self._cached(
            "empty.wav",
            lambda path: subprocess.run(
                ["sox", "-n", "-r", "16000", "-c", "1", "-t", "wav", str(path), "trim", "0", "0"], check=True
            ),
        )

    def png(self) -> Path:
        return self._cached(
            "image.png",
            lambda path: ffmpeg("-f", "lavfi", "-i", "color=red:size=16x16", "-frames:v", "1", "-f", "image2", path),
        )

    def text(self) -> Path:
        return self._cached("notes.txt", lambda path: path.write_text("Not audio at all.\n" * 200))

    def zip(self) -> Path:
        def build(path: Path) -> None:
            with zipfile.ZipFile(path, "w") as archive:
                archive.write(self.tone(1), "tone.mp3")

        return self._cached("archive.zip", build)

    def truncated(self, ext: str) -> Path:
        """The first half of a 10-second recording: its header still announces 10 seconds."""
        whole = self.tone(10, ext)
        return self._cached(
            f"truncated.{ext}", lambda path: path.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
        )

    def corrupt_header(self, ext: str) -> Path:
        """A 1-second recording whose header (FLAC's STREAMINFO, WAV's fmt chunk, ...) is overwritten."""
        original = self.tone(1, ext).read_bytes()
        marker, offset, garbage = {
            "flac": (b"fLaC", 8, bytes(34)),  # STREAMINFO: sample rate and channels become 0
            "wav": (b"fmt ", 12, bytes(4)),  # sample rate 0
            "m4a": (b"moov", 0, b"junk"),  # the index box loses its name
            "ogg": (b"\x01vorbis", 7, bytes(16)),  # the Vorbis identification header
        }[ext]
        start = original.index(marker) + offset

        def build(path: Path) -> None:
            path.write_bytes(original[:start] + garbage + original[start + len(garbage) :])

        return self._cached(f"corrupt-header.{ext}", build)


def _muxer(ext: str) -> str:
    return {"opus": "ogg", "m4a": "ipod"}.get(ext, ext)


def soxi_duration(path: Path) -> Decimal:
    """The duration sox measures, as an independent reference."""
    return Decimal(subprocess.run(["soxi", "-D", str(path)], capture_output=True, text=True, check=True).stdout.strip())


@pytest.fixture(scope="session")
def samples(tmp_path_factory) -> Samples:
    return Samples(tmp_path_factory.mktemp("audio-samples"))


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path) -> Path:
    """A fresh MEDIA_ROOT and upload temp directory per test, so tests can see what is left behind."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "upload-tmp")
    (tmp_path / "upload-tmp").mkdir()
    return tmp_path / "media"


def files_under(directory: Path | str) -> list[Path]:
    return [path for path in Path(directory).rglob("*") if path.is_file()]
