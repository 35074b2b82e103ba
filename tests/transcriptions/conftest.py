"""Real audio made once per test session (espeak-ng speech, ffmpeg), stored the way uploads are,
and a local fake of OpenAI's transcription endpoint."""

import subprocess
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files import File
from django.core.files.storage import default_storage

from audio.models import AudioFile
from tests.transcriptions.fake_openai import FakeOpenAI
from transcriptions.models import Transcription
from transcriptions.services import transcription_create
from wallet.services import wallet_adjust, wallet_credit

SPEECH = "Hello world. This is a test of the transcription service."
PAUSE_SECONDS = 2.0


def ffprobe_duration(path: Path) -> Decimal:
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(path)],
        capture_output=True,
        check=True,
        text=True,
    )
    return Decimal(probe.stdout.strip()).quantize(Decimal("0.001"))


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", *args], check=True)


@pytest.fixture(scope="session")
def audio_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("audio")


@pytest.fixture(scope="session")
def speech_wav(audio_dir) -> Path:
    """A few seconds of English speech."""
    path = audio_dir / "speech.wav"
    subprocess.run(["espeak-ng", "-s", "140", "-w", str(path), SPEECH], check=True)
    return path


@pytest.fixture(scope="session")
def phrase_wav(audio_dir, speech_wav) -> Path:
    """The speech followed by a pause: looped, it makes long recordings with known pauses."""
    path = audio_dir / "phrase.wav"
    ffmpeg("-i", str(speech_wav), "-af", f"apad=pad_dur={PAUSE_SECONDS}", "-ar", "8000", str(path))
    return path


def looped(phrase_wav: Path, dest: Path, seconds: int, *codec: str) -> Path:
    ffmpeg(
        "-stream_loop", "-1", "-i", str(phrase_wav), "-t", str(seconds), "-ac", "1", "-ar", "8000", *codec, str(dest)
    )
    return dest


@pytest.fixture(scope="session")
def ninety_seconds_wav(audio_dir, phrase_wav) -> Path:
    """Exactly 90.000 s (PCM has no encoder padding): 1.50 billable minutes."""
    return looped(phrase_wav, audio_dir / "ninety.wav", 90, "-c:a", "pcm_u8")


@pytest.fixture(scope="session")
def three_minutes_mp3(audio_dir, phrase_wav) -> Path:
    return looped(phrase_wav, audio_dir / "three-minutes.mp3", 180, "-c:a", "libmp3lame", "-b:a", "8k")


@pytest.fixture(scope="session")
def thirty_minutes_wav(audio_dir, phrase_wav) -> Path:
    """Exactly half an hour, 8 kHz 8-bit mono (14 MB): 30.00 billable minutes."""
    return looped(phrase_wav, audio_dir / "thirty-minutes.wav", 1800, "-c:a", "pcm_u8")


@pytest.fixture
def make_audio_file():
    """Store a file as an upload is stored and create its row, as the audio app does."""

    def make(user, source: Path, original_filename: str | None = None) -> AudioFile:
        extension = source.suffix.lstrip(".")
        with source.open("rb") as file:
            name = default_storage.save(f"audio_files/{user.id}/{uuid.uuid4()}.{extension}", File(file))
        return AudioFile.objects.create(
            user=user,
            file=name,
            original_filename=original_filename or source.name,
            format=extension,
            size_bytes=source.stat().st_size,
            duration_seconds=ffprobe_duration(source),
        )

    return make


@pytest.fixture
def fake_openai(settings):
    """The `openai` engine, pointed at a local fake of the API."""
    with FakeOpenAI() as fake:
        settings.TRANSCRIPTION_ENGINE = "openai"
        settings.OPENAI_API_KEY = "sk-test"
        settings.OPENAI_BASE_URL = fake.base_url
        settings.OPENAI_TRANSCRIPTION_MODEL = "whisper-1"
        settings.OPENAI_MAX_RETRIES = 2
        settings.OPENAI_TIMEOUT_SECONDS = 10
        yield fake


@pytest.fixture
def run_jobs(django_capture_on_commit_callbacks):
    """Run what is queued on commit, as the embedded default does right after the request's commit."""

    def create(**kwargs) -> Transcription:
        with django_capture_on_commit_callbacks(execute=True):
            job, _ = transcription_create(**kwargs)
        job.refresh_from_db()
        return job

    return create


def set_wallet(user, *, balance: Decimal, demo_minutes: Decimal) -> None:
    """Give a fresh user's wallet exactly these figures, through the ledger."""
    wallet = user.wallet
    if balance:
        wallet_credit(user=user, amount=balance, payment_id=f"pay_{uuid.uuid4().hex}")
    change = demo_minutes - wallet.demo_minutes_remaining
    if change:
        wallet_adjust(wallet_id=wallet.pk, demo_minutes=change, reason="test set-up")
