"""The WebSocket routes: `/v1/realtime?intent=transcription`. Anything else is refused at the handshake."""

from channels.routing import URLRouter
from django.urls import path

from realtime.consumers import TranscriptionSession

websocket_application = URLRouter([path("v1/realtime", TranscriptionSession.as_asgi())])
