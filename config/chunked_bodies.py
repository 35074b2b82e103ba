"""Request bodies sent with `Transfer-Encoding: chunked`, for WSGI and ASGI servers alike.

Django parses a form only as far as the request's `Content-Length`, and a chunked request has
none, so Django would see an empty form: the official openai package for Node.js streams every
upload this way, and would be told "No file was submitted". Both middlewares here copy such a body
to a temporary file (in memory up to 1 MiB) and give Django its length. They stop copying a little
past `MAX_UPLOAD_MB`: the upload handler then refuses the file as too large, as it refuses a body
that says its length.

Under WSGI, gunicorn removes the chunk framing and marks its input `wsgi.input_terminated` (it ends
with the body); a server whose input is not so marked cannot give the body at all: 411. Under ASGI
(daphne's runserver, uvicorn) the server removes the framing and the body arrives as messages.
"""

import json
import tempfile
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from typing import Any

from django.conf import settings

COPY_BUFFER = 64 * 1024
IN_MEMORY_BYTES = 1024 * 1024
# Beyond the file itself: the multipart framing and the form's other fields.
SLACK_BYTES = 1024 * 1024

Scope = dict[str, Any]
Message = Mapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
AsgiApplication = Callable[[Scope, Receive, Send], Awaitable[None]]


def _copy_limit() -> int:
    return settings.MAX_UPLOAD_MB * 1024 * 1024 + SLACK_BYTES


def _spool() -> tempfile.SpooledTemporaryFile:
    return tempfile.SpooledTemporaryFile(max_size=IN_MEMORY_BYTES, dir=settings.FILE_UPLOAD_TEMP_DIR)


class ChunkedBodies:
    """WSGI."""

    def __init__(self, application: Callable) -> None:
        self.application = application

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("CONTENT_LENGTH") or "chunked" not in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
            return self.application(environ, start_response)
        if not environ.get("wsgi.input_terminated"):
            return _length_required(start_response)
        body, limit = _spool(), _copy_limit()  # closed with the response (`_closing`), or below
        source, copied = environ["wsgi.input"], 0
        while copied < limit and (block := source.read(min(COPY_BUFFER, limit - copied))):
            body.write(block)
            copied += len(block)
        body.seek(0)
        environ.update({"wsgi.input": body, "CONTENT_LENGTH": str(copied)})
        try:
            response = self.application(environ, start_response)
        except BaseException:
            body.close()
            raise
        return _closing(response, body)


class AsgiChunkedBodies:
    """ASGI: the body's messages are read to the end (or the limit) before the application starts,
    then given to it again, from the file, under a `content-length` header."""

    def __init__(self, application: AsgiApplication) -> None:
        self.application = application

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = scope.get("headers", []) if scope["type"] == "http" else []
        names = {name.lower(): value for name, value in headers}
        if b"content-length" in names or b"chunked" not in names.get(b"transfer-encoding", b"").lower():
            return await self.application(scope, receive, send)
        with _spool() as body:
            limit, copied, more = _copy_limit(), 0, True
            while more and copied < limit:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                block = message.get("body", b"")[: limit - copied]
                body.write(block)
                copied += len(block)
                more = message.get("more_body", False)
            body.seek(0)
            sized = [(name, value) for name, value in headers if name.lower() != b"transfer-encoding"]
            scope = {**scope, "headers": [*sized, (b"content-length", str(copied).encode())]}
            await self.application(scope, _replay(body, copied, receive), send)


def _replay(body: tempfile.SpooledTemporaryFile, size: int, receive: Receive) -> Receive:
    left, done = size, False

    async def replayed() -> Message:
        nonlocal left, done
        if not done:
            block = body.read(min(COPY_BUFFER, left))
            left -= len(block)
            done = left <= 0
            return {"type": "http.request", "body": block, "more_body": not done}
        while True:  # after the body: the client's disconnect, past any of the body left unread
            message = await receive()
            if message["type"] != "http.request":
                return message

    return replayed


def _closing(response: Iterable[bytes], body: tempfile.SpooledTemporaryFile) -> Iterator[bytes]:
    try:
        yield from response
    finally:
        close = getattr(response, "close", None)
        if close is not None:
            close()
        body.close()


def _length_required(start_response: Callable) -> list[bytes]:
    payload = json.dumps(
        {
            "detail": "Send the body with a Content-Length: this server cannot read a chunked one.",
            "code": "length_required",
        }
    ).encode()
    start_response("411 Length Required", [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
    return [payload]
