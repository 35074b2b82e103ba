"""Request bodies sent with `Transfer-Encoding: chunked` under WSGI.

Django reads a WSGI request's body only as far as its `Content-Length`, and a chunked request has
none, so Django would see an empty body: the official openai package for Node.js streams every
upload this way, and would be told "No file was submitted". gunicorn removes the chunk framing and
marks its input `wsgi.input_terminated` (it ends with the body); this middleware copies such a body
to a temporary file (in memory up to 1 MiB) and gives Django its length. It stops copying a little
past `MAX_UPLOAD_MB`: the upload handler then refuses the file as too large, as it refuses a body
that says its length. A server whose input is not terminated cannot give the body at all: 411.
ASGI servers need none of this (Django's ASGI handler reads the body to its end).
"""

import json
import tempfile
from collections.abc import Callable, Iterable, Iterator

from django.conf import settings

COPY_BUFFER = 64 * 1024
IN_MEMORY_BYTES = 1024 * 1024
# Beyond the file itself: the multipart framing and the form's other fields.
SLACK_BYTES = 1024 * 1024


class ChunkedBodies:
    def __init__(self, application: Callable) -> None:
        self.application = application

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("CONTENT_LENGTH") or "chunked" not in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
            return self.application(environ, start_response)
        if not environ.get("wsgi.input_terminated"):
            return _length_required(start_response)
        # Closed with the response (`_closing`), or here if there is none.
        body = tempfile.SpooledTemporaryFile(max_size=IN_MEMORY_BYTES, dir=settings.FILE_UPLOAD_TEMP_DIR)  # noqa: SIM115
        limit = settings.MAX_UPLOAD_MB * 1024 * 1024 + SLACK_BYTES
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
