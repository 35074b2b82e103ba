"""Server-Sent Events framing, as OpenAI's streaming transcriptions use it: each event one
`data:` line of JSON and a blank line; comments (`: ...`) keep a quiet connection open.

Plain functions of plain values: no request, job or engine here.
"""

import json
from collections.abc import Mapping
from typing import Any

CONTENT_TYPE = "text/event-stream"


def event(data: Mapping[str, Any]) -> bytes:
    """One event: `data: {json}` and the blank line that ends it. JSON never holds a raw newline,
    so one `data:` line is always enough."""
    return b"data: " + json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode() + b"\n\n"


def comment(text: str) -> bytes:
    """A comment line, which clients ignore: it keeps proxies from closing a quiet stream."""
    return b": " + " ".join(text.split()).encode() + b"\n\n"


def text_pieces(text: str, segment_texts: list[str]) -> list[str]:
    """The text cut where its segments meet, for one delta each: joined, the pieces are exactly
    `text`. When the segments do not add up to the text (a model that gives none, or text joined
    otherwise), the whole text is one piece; an empty text is none."""
    if segment_texts and " ".join(segment_texts) == text:
        return [segment_texts[0], *(" " + piece for piece in segment_texts[1:])]
    return [text] if text else []


def parse(stream: bytes) -> list[dict[str, Any]]:
    """The events of a stream, comments left out (for tests and for clients without an SSE library)."""
    events = []
    for block in stream.split(b"\n\n"):
        # Lines end at CR or LF only (bytes.splitlines), never at the Unicode separators JSON may hold.
        data = [line.removeprefix(b"data:").lstrip(b" ") for line in block.splitlines() if line.startswith(b"data:")]
        if data:
            events.append(json.loads(b"\n".join(data).decode()))
    return events
