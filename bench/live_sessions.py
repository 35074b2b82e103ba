"""Live sessions on the offline engine: how long after an utterance ends its text arrives, and how
many sessions at real time one server process carries.

The server is one ASGI process as production runs it (`uvicorn config.asgi:application`,
`--workers 1`; `--server runserver` for the embedded default) on a SQLite file of its own. Each
session streams the five LibriVox utterances of Debian's `pocketsphinx-testdata` (2.8 to 7 s each,
1.2 s apart, then 1.5 s of silence) at real time in 100 ms appends, with server VAD (500 ms of
silence ends a turn). Sessions start 0.4 s apart.

- latency: from the moment the last audio sample of an utterance was sent to its `completed`
  event, so it includes the 500 ms of silence that ends the turn; p50/p95 over every utterance.
- WER of all the sessions' transcripts against the reference text.
- the server's RSS after a warm-up session (the model loaded), and its peak during each run: the
  memory per extra session is (peak with N sessions - peak with 1) / (N - 1).
- goal: p50 <= 1.0 s and p95 <= 2.0 s for one session; a process carries N sessions
  while p95 stays under 2 s.

- the same single session on a smaller model (`--smaller-model`, default tiny.en), a server of its own.

    .venv/bin/python -m bench.live_sessions [--sessions 1,4,8] [--server uvicorn|runserver] [--smaller-model tiny.en]
"""

import argparse
import asyncio
import base64
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import wave
from collections.abc import Iterator
from pathlib import Path

import websockets

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import PYTHON, Row, free_port, print_rows, stop, wait_until_up  # noqa: E402
from tests.speech import librivox, word_error_rate  # noqa: E402

RATE = 16_000
PAUSE_SECONDS = 1.2
TAIL_SECONDS = 1.5
CHUNK_SECONDS = 0.1


def speech() -> tuple[bytes, list[float], str]:
    """The stream a session sends (PCM16 at 16 kHz), where each utterance ends in it (seconds), and the text."""
    pcm, ends, texts = b"", [], []
    for utterance in librivox():
        with wave.open(str(utterance.path)) as clip:
            pcm += clip.readframes(clip.getnframes())
        ends.append(len(pcm) / 2 / RATE)
        pcm += b"\0\0" * int(PAUSE_SECONDS * RATE)
        texts.append(utterance.text)
    return pcm + b"\0\0" * int(TAIL_SECONDS * RATE), ends, " ".join(texts)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def start_server(kind: str, env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    port = free_port()
    if kind == "uvicorn":
        command = [PYTHON, "-m", "uvicorn", "config.asgi:application", "--port", str(port), "--workers", "1"]
        command += ["--ws", "websockets-sansio", "--lifespan", "off", "--log-level", "warning"]
    else:
        command = [PYTHON, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_until_up(f"http://127.0.0.1:{port}/health/", process, seconds=120)
    return process, f"ws://127.0.0.1:{port}/v1/realtime?intent=transcription"


async def one_session(url: str, key: str, pcm: bytes, ends: list[float], delay: float) -> tuple[list[float], str]:
    await asyncio.sleep(delay)
    async with websockets.connect(url, additional_headers={"Authorization": f"Bearer {key}"}) as ws:
        await ws.recv()
        audio_input = {"format": {"type": "audio/pcm", "rate": RATE}, "transcription": {"language": "en"}}
        await ws.send(json.dumps({"type": "session.update", "session": {"audio": {"input": audio_input}}}))
        await ws.recv()
        began = time.monotonic()
        completed: list[tuple[float, str]] = []

        async def read() -> None:
            async for message in ws:
                event = json.loads(message)
                if event["type"] == "conversation.item.input_audio_transcription.completed":
                    completed.append((time.monotonic(), event["transcript"]))
                    if len(completed) == len(ends):
                        return
                elif event["type"] == "error":
                    raise RuntimeError(event["error"])

        reader = asyncio.ensure_future(read())
        chunk = int(RATE * CHUNK_SECONDS) * 2
        for index, offset in enumerate(range(0, len(pcm), chunk)):
            audio = base64.b64encode(pcm[offset : offset + chunk]).decode()
            await ws.send(json.dumps({"type": "input_audio_buffer.append", "audio": audio}))
            await asyncio.sleep(max(0.0, began + (index + 1) * CHUNK_SECONDS - time.monotonic()))
        await asyncio.wait_for(reader, 120)
    # The chunk holding an utterance's last sample was sent at the end of that chunk's slot.
    sent = [began + (int(end / CHUNK_SECONDS) + 1) * CHUNK_SECONDS for end in ends]
    return [at - end for (at, _), end in zip(completed, sent, strict=True)], " ".join(text for _, text in completed)


def measure(url: str, key: str, sessions: int, pid: int) -> dict[str, float]:
    pcm, ends, reference = speech()
    peak = [rss_mb(pid)]
    stopped = threading.Event()

    def sample() -> None:
        while not stopped.wait(0.2):
            peak.append(rss_mb(pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()

    async def together() -> list[tuple[list[float], str]]:
        return await asyncio.gather(*(one_session(url, key, pcm, ends, 0.4 * i) for i in range(sessions)))

    results = asyncio.run(together())
    stopped.set()
    sampler.join()
    latencies = sorted(latency for session, _ in results for latency in session)
    return {
        "p50": statistics.median(latencies),
        "p95": latencies[max(0, round(0.95 * len(latencies)) - 1)],
        "max": latencies[-1],
        "wer": max(word_error_rate(reference, text) for _, text in results),
        "peak_rss": max(peak),
    }


@contextlib.contextmanager
def serving(server: str, whisper_model: str) -> Iterator[tuple[str, str, int]]:
    """A fresh server on a SQLite file of its own with `whisper_model` loaded (one warm-up session
    run): (WebSocket URL, API key, server pid)."""
    with tempfile.TemporaryDirectory(prefix="bench-live-") as workdir:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "DATABASE_URL": f"sqlite:///{workdir}/db.sqlite3",
            "MEDIA_ROOT": f"{workdir}/media",
            "TRANSCRIPTION_ENGINE": "local",
            "LOCAL_WHISPER_MODEL": whisper_model,
            "OPENAI_API_KEY": "",
            "CELERY_BROKER_URL": "",
            "REDIS_URL": "",
            "DEMO_MINUTES": "1000",
            "LOG_LEVEL": "WARNING",
        }
        subprocess.run([PYTHON, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
        key = subprocess.run(
            [PYTHON, "manage.py", "issue_api_key", "--create", "bench@example.com"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()[-1]
        process, url = start_server(server, env)
        try:
            measure(url, key, 1, process.pid)  # warm-up: the model loads on the first utterance
            yield url, key, process.pid
        finally:
            stop(process)


def run(
    *, sessions: str = "1,2,3", server: str = "uvicorn", smaller_model: str = "tiny.en", verbose: bool = False
) -> list[Row]:
    """The key figures for `python -m bench`: one session's latency, how many sessions stay under
    2 s at p95, memory per extra session, WER, on the default model (`base`); then one session's
    latency on `smaller_model` ("" for none), the choice for a deployment that needs it lower."""
    counts = [int(n) for n in sessions.split(",")]
    figures: dict[int, dict[str, float]] = {}
    with serving(server, "base") as (url, key, pid):
        if verbose:
            print(f"{server}, 1 process, {os.cpu_count()} cores, whisper-base; RSS after warm-up {rss_mb(pid):.0f} MB")
            print("sessions  p50 s  p95 s  max s  worst WER  peak RSS MB  MB/extra session")
        for count in counts:
            figures[count] = measure(url, key, count, pid)
            if verbose:
                one = figures.get(1)
                extra = (
                    f"{(figures[count]['peak_rss'] - one['peak_rss']) / (count - 1):16.1f}"
                    if one is not None and count > 1
                    else f"{'-':>16}"
                )
                print(
                    f"{count:8}  {figures[count]['p50']:5.2f}  {figures[count]['p95']:5.2f}"
                    f"  {figures[count]['max']:5.2f}  {figures[count]['wer']:9.1%}"
                    f"  {figures[count]['peak_rss']:11.0f}  {extra}"
                )
    smaller = None
    if smaller_model:
        with serving(server, smaller_model) as (url, key, pid):
            smaller = measure(url, key, 1, pid)
        if verbose:
            print(
                f"whisper-{smaller_model}, 1 session: p50 {smaller['p50']:.2f} s, p95 {smaller['p95']:.2f} s,"
                f" WER {smaller['wer']:.1%}, peak RSS {smaller['peak_rss']:.0f} MB"
            )
    rows = []
    if 1 in figures:
        one = figures[1]
        rows += [
            Row(
                "latency, end of utterance to completed, 1 session, p50",
                f"{one['p50']:.2f} s",
                target="<= 1.0 s",
                met=one["p50"] <= 1.0,
            ),
            Row("latency, 1 session, p95", f"{one['p95']:.2f} s", target="<= 2.0 s", met=one["p95"] <= 2.0),
        ]
        many = [count for count in counts if count > 1]
        if many:
            top = max(many)
            per_session = (figures[top]["peak_rss"] - one["peak_rss"]) / (top - 1)
            rows.append(
                Row(
                    f"memory per extra session ({top} sessions)",
                    f"{per_session:.1f} MB",
                    target="<= 20 MB",
                    met=per_session <= 20,
                )
            )
    sustained = max([count for count in counts if figures[count]["p95"] <= 2.0], default=0)
    rows.append(Row("real-time sessions one process carries at p95 <= 2 s", str(sustained)))
    rows.append(
        Row(
            "worst WER of a session",
            f"{max(f['wer'] for f in figures.values()):.1%}",
            target="<= 10%",
            met=all(f["wer"] <= 0.10 for f in figures.values()),
        )
    )
    if smaller is not None:
        rows += [
            Row(
                f"whisper-{smaller_model}, 1 session, p50 / p95",
                f"{smaller['p50']:.2f} / {smaller['p95']:.2f} s",
                baseline=f"base {figures[1]['p50']:.2f} s" if 1 in figures else "",
                ratio=smaller["p50"] / figures[1]["p50"] if 1 in figures else None,
                target="p50 <= 1.0 s",
                met=smaller["p50"] <= 1.0 and smaller["p95"] <= 2.0,
            ),
            Row(f"whisper-{smaller_model}, WER", f"{smaller['wer']:.1%}", target="<= 10%", met=smaller["wer"] <= 0.10),
        ]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", default="1,4,8,12,16")
    parser.add_argument("--server", choices=["uvicorn", "runserver"], default="uvicorn")
    parser.add_argument("--smaller-model", default="tiny.en", help="also one session on this model ('' for none)")
    args = parser.parse_args()
    rows = run(sessions=args.sessions, server=args.server, smaller_model=args.smaller_model, verbose=True)
    print_rows("Live sessions", rows)


if __name__ == "__main__":
    main()
