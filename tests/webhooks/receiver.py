"""A webhook receiver on 127.0.0.1, as a client's server would run one: it verifies each request's
signature with the `standardwebhooks` package and answers with the statuses it is told to."""

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    verified: dict | None  # the payload, when the signature checked out with `secret`


@dataclass
class Receiver:
    """`answers` are used in turn (the last one repeats); `delay` holds each answer back."""

    secret: str = ""
    answers: list[int] = field(default_factory=lambda: [200])
    location: str = ""  # sent with 3xx answers
    delay: float = 0.0
    received: list[Received] = field(default_factory=list)

    def __post_init__(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = {name.lower(): value for name, value in self.headers.items()}
                receiver.received.append(Received(self.path, headers, body, receiver._verify(body, headers)))
                time.sleep(receiver.delay)
                status = receiver.answers[min(len(receiver.received), len(receiver.answers)) - 1]
                self.send_response(status)
                if receiver.location:
                    self.send_header("Location", receiver.location)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks?source=transcriber"

    def _verify(self, body: bytes, headers: dict[str, str]) -> dict | None:
        if not self.secret:
            return None
        try:
            return Webhook(self.secret).verify(body, headers)
        except WebhookVerificationError:
            return None

    def payloads(self) -> list[dict]:
        return [json.loads(request.body) for request in self.received]

    def __enter__(self) -> "Receiver":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
