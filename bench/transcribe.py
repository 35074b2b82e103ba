"""Transcription benchmark, in two parts.

1. A 60-minute recording through the `openai` engine against a local fake of OpenAI's API that
   answers each request after a fixed 1 s. Prints the wall time, the number of chunks, and the
   ratio to the ideal: the time to split the recording (decode, find pauses, encode every chunk,
   measured on its own in the same run) plus 1 s x ceil(chunks / concurrency). Target: <= 1.5.
   The same recording one chunk at a time is the baseline for what concurrency buys.
2. `GET /api/transcriptions/export_csv/` of 100,000 rows through the real view: rows a second and
   the growth of peak RSS while it streams (the high-water mark is reset through
   /proc/self/clear_refs just before), against building the same CSV in memory. Target: <= 50 MB.

    .venv/bin/python -m bench.transcribe

Uses a throwaway SQLite database and MEDIA_ROOT; set DATABASE_URL to measure the export on
MySQL/MariaDB (a scratch database: the rows are added, then removed).
"""

import csv
import io
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SCRATCH = Path(tempfile.mkdtemp(prefix="bench-transcribe-"))
os.environ.setdefault("DATABASE_URL", f"sqlite:///{SCRATCH / 'bench.sqlite3'}")
os.environ.update(
    DJANGO_SETTINGS_MODULE="config.settings.local",
    MEDIA_ROOT=str(SCRATCH / "media"),
    DEBUG="false",
    LOG_LEVEL="WARNING",
)

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.services import user_create, user_issue_tokens  # noqa: E402
from bench.common import Row, ffmpeg, print_rows  # noqa: E402
from tests.transcriptions.fake_openai import FakeOpenAI, Reply  # noqa: E402
from transcriptions.engines import media  # noqa: E402
from transcriptions.engines.openai import MAX_SILENCE_SEARCH_SECONDS, MIN_TAIL_SECONDS, OpenAIEngine  # noqa: E402
from transcriptions.exports import CSV_FIELDS  # noqa: E402
from transcriptions.models import Transcription  # noqa: E402
from transcriptions.selectors import transcription_list  # noqa: E402

LATENCY_SECONDS = 1.0
RECORDING_SECONDS = 3600
CHUNK_SECONDS = 600
CONCURRENCY = 4
CSV_ROWS = 100_000
MB = 1024 * 1024


def make_recording() -> Path:
    """An hour of speech with pauses, as a 64 kbit/s mp3 (29 MB, over OpenAI's 25 MB): one phrase
    encoded, then repeated by stream copy."""
    speech, phrase, recording = SCRATCH / "speech.wav", SCRATCH / "phrase.mp3", SCRATCH / "hour.mp3"
    text = "The quick brown fox jumps over the lazy dog. Pack my box with five dozen liquor jugs."
    subprocess.run(["espeak-ng", "-s", "150", "-w", speech, text], check=True)
    ffmpeg("-i", speech, "-af", "apad=pad_dur=1.5", "-ac", 1, "-ar", 16000, "-b:a", "64k", phrase)
    ffmpeg("-stream_loop", -1, "-i", phrase, "-t", RECORDING_SECONDS, "-c", "copy", recording)
    return recording


def quick_reply(request) -> Reply:
    return Reply(body={"text": f"Words of {request.filename}.", "segments": [], "duration": 0, "language": "en"})


def engine(base_url: str, concurrency: int) -> OpenAIEngine:
    return OpenAIEngine(
        model="whisper-1",
        api_key="sk-bench",
        base_url=base_url,
        timeout=60,
        max_retries=0,
        chunk_seconds=CHUNK_SECONDS,
        concurrency=concurrency,
    )


def split_only(recording: Path) -> tuple[float, int]:
    """What the engine does before and besides the requests, with the same parallelism."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(dir=SCRATCH) as workdir:
        decoded = media.decode(recording, Path(workdir))
        chunks = media.plan_chunks(
            duration=decoded.duration,
            silences=decoded.silences,
            chunk_seconds=CHUNK_SECONDS,
            search_seconds=min(MAX_SILENCE_SEARCH_SECONDS, CHUNK_SECONDS / 10),
            min_tail_seconds=MIN_TAIL_SECONDS,
        )
        with ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
            list(
                pool.map(lambda chunk: media.encode_chunk(decoded, chunk, Path(workdir) / f"{chunk.index}.mp3"), chunks)
            )
    return time.perf_counter() - started, len(chunks)


def bench_engine() -> Row:
    started = time.perf_counter()
    recording = make_recording()
    size = recording.stat().st_size / MB
    print(
        f"recording: {RECORDING_SECONDS // 60} min mp3, {size:.1f} MB (made in {time.perf_counter() - started:.1f} s)"
    )
    split_seconds, chunks = split_only(recording)
    with FakeOpenAI(respond=quick_reply, latency=LATENCY_SECONDS) as fake:
        runs = {}
        for concurrency in (CONCURRENCY, 1):
            started = time.perf_counter()
            result = engine(fake.base_url, concurrency).transcribe(
                path=recording, language="en", words=False, on_progress=lambda _: None
            )
            runs[concurrency] = time.perf_counter() - started
            assert result.text.startswith("Words of chunk-000.mp3.")
        requests = len(fake.requests) // len(runs)
    ideal = split_seconds + LATENCY_SECONDS * math.ceil(chunks / CONCURRENCY)
    print(
        f"chunks: {chunks} of up to {CHUNK_SECONDS} s (cut at pauses), "
        f"concurrency {CONCURRENCY}, {requests} requests a run"
    )
    print(f"split alone (decode, pauses, encode chunks): {split_seconds:.2f} s")
    print(
        f"wall time: {runs[CONCURRENCY]:.2f} s; ideal {ideal:.2f} s; "
        f"ratio {runs[CONCURRENCY] / ideal:.2f} (target <= 1.5)"
    )
    print(f"baseline, one chunk at a time: {runs[1]:.2f} s ({runs[1] / runs[CONCURRENCY]:.1f}x slower)")
    ratio = runs[CONCURRENCY] / ideal
    return Row(
        f"transcription: {RECORDING_SECONDS // 60} min through a fake OpenAI (1 s a request)",
        f"{runs[CONCURRENCY]:.2f} s",
        f"ideal: {ideal:.2f} s",
        ratio,
        "<= 1.5",
        ratio <= 1.5,
    )


def peak_rss_growth(work) -> tuple[float, object]:
    """Seconds and peak RSS growth (MB) of `work()`, from a freshly reset high-water mark."""

    def rss_kb(field: str) -> int:
        return int(re.search(rf"{field}:\s+(\d+)", Path("/proc/self/status").read_text())[1])

    Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS
    before = rss_kb("VmRSS")
    started = time.perf_counter()
    result = work()
    seconds = time.perf_counter() - started
    return seconds, (rss_kb("VmHWM") - before) / 1024, result


def bench_csv() -> list[Row]:
    call_command("migrate", verbosity=0)
    user = user_create(email=f"bench-{time.time_ns()}@example.com")
    transcript = ("This is what was said in the meeting, more or less word for word. " * 8).strip()
    now = timezone.now()
    started = time.perf_counter()
    for offset in range(0, CSV_ROWS, 5000):
        Transcription.objects.bulk_create(
            Transcription(
                user=user,
                audio_filename=f"meeting-{number:06d}.mp3",
                audio_duration_seconds=Decimal("600.000"),
                status="completed",
                engine="openai",
                model="whisper-1",
                text=f"{number}: {transcript}",
                billable_minutes=Decimal("10.00"),
                amount=Decimal("10.00"),
                created_at=now,
                completed_at=now,
            )
            for number in range(offset, offset + 5000)
        )
    print(
        f"\nrows: {CSV_ROWS:,} transcriptions of ~{len(transcript)} characters "
        f"(inserted in {time.perf_counter() - started:.1f} s)"
    )

    client = Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Bearer {user_issue_tokens(user=user)['access']}")

    def stream() -> int:
        response = client.get("/api/transcriptions/export_csv/")
        assert response.status_code == 200 and response.streaming
        return sum(len(chunk) for chunk in response.streaming_content)

    def in_memory() -> int:
        """The naive export: every row loaded, the whole CSV built, then sent."""
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_FIELDS)
        for job in list(transcription_list(user=user)):
            writer.writerow([getattr(job, field) for field in CSV_FIELDS])
        return len(buffer.getvalue().encode())

    seconds, growth, size = peak_rss_growth(stream)
    print(
        f"streamed export: {size / MB:.1f} MB in {seconds:.2f} s, {CSV_ROWS / seconds:,.0f} rows/s, "
        f"peak RSS +{growth:.1f} MB (target <= 50)"
    )
    baseline_seconds, baseline_growth, _ = peak_rss_growth(in_memory)
    print(
        f"baseline, the same rows built in memory: {baseline_seconds:.2f} s, "
        f"peak RSS +{baseline_growth:.1f} MB ({baseline_growth / max(growth, 0.1):.0f}x the streamed growth)"
    )
    Transcription.objects.filter(user=user).delete()
    return [
        Row(
            f"CSV export of {CSV_ROWS:,} rows, streamed",
            f"{CSV_ROWS / seconds:,.0f} rows/s",
            f"built in memory: {CSV_ROWS / baseline_seconds:,.0f} rows/s",
            baseline_seconds / seconds,
        ),
        Row(
            "CSV export: peak RSS growth",
            f"{growth:.1f} MB",
            f"built in memory: {baseline_growth:.1f} MB",
            growth / baseline_growth,
            "<= 50 MB",
            growth <= 50,
        ),
    ]


def run() -> list[Row]:
    try:
        return [bench_engine(), *bench_csv()]
    finally:
        shutil.rmtree(SCRATCH)


if __name__ == "__main__":
    print_rows("Transcription", run())
