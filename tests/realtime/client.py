"""A live-session client for tests: the `websockets` package against a live server, speaking
OpenAI's Realtime transcription protocol as an SDK would."""

import asyncio
import base64
import json
import time
import wave
from pathlib import Path
from typing import Any

import numpy as np
import websockets

SERVER_VAD: dict[str, Any] = {
    "type": "server_vad",
    "threshold": 0.5,
    "prefix_padding_ms": 300,
    "silence_duration_ms": 500,
}


def pcm_of(path: Path, *, rate: int = 16_000, silence_after: float = 0.0) -> bytes:
    """A 16 kHz mono WAV file's samples as PCM16 at `rate`, with `silence_after` seconds of silence."""
    with wave.open(str(path)) as source:
        assert (source.getframerate(), source.getnchannels(), source.getsampwidth()) == (16_000, 1, 2)
        samples = np.frombuffer(source.readframes(source.getnframes()), dtype="<i2")
    if rate != 16_000:
        positions = np.arange(int(len(samples) * rate / 16_000)) * 16_000 / rate
        samples = np.interp(positions, np.arange(len(samples)), samples).astype("<i2")
    return samples.tobytes() + b"\0\0" * int(silence_after * rate)


def ws_url(server) -> str:
    return server.url.replace("http://", "ws://") + "/v1/realtime?intent=transcription"


async def connect(server, credential: str | None, *, url: str | None = None, **kwargs: Any):
    headers = {"Authorization": f"Bearer {credential}"} if credential else {}
    headers.update(kwargs.pop("headers", {}))
    return await websockets.connect(url or ws_url(server), additional_headers=headers, max_size=None, **kwargs)


async def receive(ws, timeout: float = 60) -> dict[str, Any]:
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def send(ws, kind: str, **fields: Any) -> None:
    await ws.send(json.dumps({"type": kind, **fields}))


async def start(server, credential: str, *, rate: int = 16_000, turn_detection: Any = SERVER_VAD, **transcription: Any):
    """A session opened and configured: (socket, session.created, session.updated)."""
    ws = await connect(server, credential)
    created = await receive(ws)
    audio_input: dict[str, Any] = {"format": {"type": "audio/pcm", "rate": rate}, "turn_detection": turn_detection}
    if transcription:
        audio_input["transcription"] = transcription
    await send(ws, "session.update", session={"type": "transcription", "audio": {"input": audio_input}})
    updated = await receive(ws)
    return ws, created, updated


async def stream(ws, pcm: bytes, *, rate: int = 16_000, chunk_seconds: float = 0.1, pace: float = 0.0) -> None:
    """Append `pcm` in chunks; `pace` 1.0 sends it at real time (0: as fast as the socket takes it)."""
    chunk = int(rate * chunk_seconds) * 2
    began = time.monotonic()
    for index, offset in enumerate(range(0, len(pcm), chunk)):
        await send(ws, "input_audio_buffer.append", audio=base64.b64encode(pcm[offset : offset + chunk]).decode())
        if pace:
            await asyncio.sleep(max(0.0, began + (index + 1) * chunk_seconds * pace - time.monotonic()))


async def events_until(ws, kind: str, *, count: int = 1, timeout: float = 120) -> list[dict[str, Any]]:
    """Every event up to the `count`th of type `kind`."""
    events: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while sum(event["type"] == kind for event in events) < count:
        events.append(await receive(ws, timeout=max(0.1, deadline - time.monotonic())))
    return events


async def all_events(ws, *, timeout: float = 120) -> list[dict[str, Any]]:
    """Every event until the server closes the socket."""
    events: list[dict[str, Any]] = []
    try:
        while True:
            events.append(await receive(ws, timeout=timeout))
    except websockets.ConnectionClosed:
        return events
