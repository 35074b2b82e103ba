"""A local stand-in for OpenAI's `POST /v1/audio/transcriptions` and `/v1/audio/translations`,
served on 127.0.0.1.

It parses the multipart body as the real API does, records every request (with its path), and
answers with what the test's `respond` function returns. By default: a transcript naming the
uploaded file, with two segments covering the upload's real duration (measured with ffprobe) for
`verbose_json`; a translation says so in its text and its `task`.
"""

import contextlib
import json
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

TRANSCRIPTIONS = "/v1/audio/transcriptions"
TRANSLATIONS = "/v1/audio/translations"


@dataclass
class Request:
    fields: dict[str, list[str]]
    filename: str
    content_type: str
    audio: bytes = field(repr=False)
    authorization: str
    path: str = TRANSCRIPTIONS

    @property
    def is_translation(self) -> bool:
        return self.path == TRANSLATIONS

    def field(self, name: str) -> str | None:
        values = self.fields.get(name)
        return values[0] if values else None

    @property
    def duration(self) -> float:
        # From a file: through a pipe ffprobe cannot seek to measure an mp3.
        with tempfile.NamedTemporaryFile(suffix=Path(self.filename).suffix) as file:
            file.write(self.audio)
            file.flush()
            probe = subprocess.run(
                ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", file.name],
                capture_output=True,
                check=True,
            )
        return float(probe.stdout)


@dataclass
class Reply:
    status: int = 200
    body: dict | str = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


def transcript(request: Request) -> Reply:
    name = request.filename
    if request.is_translation:
        return translation(request)
    if request.field("response_format") == "diarized_json":
        return diarized(request)
    if request.field("response_format") != "verbose_json":
        return Reply(body={"text": f"Words of {name}."})
    duration = request.duration
    segments = [
        {"id": 0, "start": 0.0, "end": duration / 2, "text": f" First half of {name}."},
        {"id": 1, "start": duration / 2, "end": duration, "text": f" Second half of {name}."},
    ]
    for segment in segments:
        segment.update(seek=0, tokens=[], temperature=0.0, avg_logprob=-0.2, compression_ratio=1.2, no_speech_prob=0.01)
    body = {
        "task": "transcribe",
        "language": "english",
        "duration": duration,
        "text": f"First half of {name}. Second half of {name}.",
        "segments": segments,
    }
    if "word" in request.fields.get("timestamp_granularities[]", []):
        body["words"] = [word for segment in segments for word in _spread_words(segment)]
    return Reply(body=body)


def translation(request: Request) -> Reply:
    """What the translations endpoint answers: English text, segments for `verbose_json` (never
    words: it takes no `timestamp_granularities`), and the spoken language it detected."""
    name = request.filename
    if request.field("response_format") != "verbose_json":
        return Reply(body={"text": f"English words of {name}."})
    duration = request.duration
    body = {
        "task": "translate",
        "language": "french",
        "duration": duration,
        "text": f"English words of {name}.",
        "segments": [
            {
                "id": 0,
                "seek": 0,
                "start": 0.0,
                "end": duration,
                "text": f" English words of {name}.",
                "tokens": [],
                "temperature": 0.0,
                "avg_logprob": -0.2,
                "compression_ratio": 1.2,
                "no_speech_prob": 0.01,
            }
        ],
    }
    return Reply(body=body)


def diarized(request: Request) -> Reply:
    """Two halves, two voices. Without known speakers they are `A` and `B`; with them, the first
    half is the first known speaker and the second a new voice, which the model letters `A` again."""
    duration = request.duration
    known = request.fields.get("known_speaker_names[]", [])
    speakers = (known[0], "A") if known else ("A", "B")
    segments = [
        {
            "type": "transcript.text.segment",
            "id": f"seg_{index}",
            "start": start,
            "end": end,
            "text": f" {speaker} speaks in {request.filename}.",
            "speaker": speaker,
        }
        for index, (speaker, start, end) in enumerate(
            [(speakers[0], 0.0, duration / 2), (speakers[1], duration / 2, duration)]
        )
    ]
    body = {
        "task": "transcribe",
        "duration": duration,
        "text": "".join(segment["text"] for segment in segments).strip(),
        "segments": segments,
        "usage": {"type": "duration", "seconds": duration},
    }
    return Reply(body=body)


def _spread_words(segment: dict) -> list[dict]:
    """The segment's words, in one list apart from the segments as whisper-1 gives them, each an
    equal share of the segment's time."""
    words = segment["text"].split()
    share = (segment["end"] - segment["start"]) / len(words)
    return [
        {"word": word, "start": segment["start"] + i * share, "end": segment["start"] + (i + 1) * share}
        for i, word in enumerate(words)
    ]


def error(status: int, message: str = "Something went wrong.") -> Reply:
    # retry-after-ms keeps the SDK's backoff between retries short in tests.
    return Reply(
        status=status,
        body={"error": {"message": message, "type": "invalid_request_error", "param": None, "code": None}},
        headers={"retry-after-ms": "10"},
    )


class FakeOpenAI:
    def __init__(self, respond: Callable[[Request], Reply] = transcript, latency: float = 0.0) -> None:
        self.respond = respond
        self.latency = latency
        self.requests: list[Request] = []
        self.max_in_flight = 0
        self._in_flight = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> "FakeOpenAI":
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _record(self, request: Request) -> Reply:
        with self._lock:
            self.requests.append(request)
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
        try:
            reply = self.respond(request)
            time.sleep(self.latency + reply.delay)
            return reply
        finally:
            with self._lock:
                self._in_flight -= 1

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                if self.path not in (TRANSCRIPTIONS, TRANSLATIONS):
                    return self._send(Reply(status=404, body={"error": {"message": "Unknown path"}}))
                body = self.rfile.read(int(self.headers["Content-Length"]))
                self._send(fake._record(self._parse(body)))

            def _parse(self, body: bytes) -> Request:
                header = f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode()
                message = BytesParser(policy=HTTP).parsebytes(header + body)
                fields: dict[str, list[str]] = {}
                filename, content_type, audio = "", "", b""
                for part in message.iter_parts():
                    name = part.get_param("name", header="content-disposition")
                    if part.get_filename() is not None:
                        filename, content_type, audio = part.get_filename(), part.get_content_type(), part.get_content()
                    else:
                        fields.setdefault(name, []).append(part.get_content())
                return Request(fields, filename, content_type, audio, self.headers.get("Authorization", ""), self.path)

            def _send(self, reply: Reply) -> None:
                is_json = isinstance(reply.body, dict)
                payload = json.dumps(reply.body).encode() if is_json else reply.body.encode()
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json" if is_json else "text/plain")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up waiting
                    self.wfile.write(payload)

        return Handler
