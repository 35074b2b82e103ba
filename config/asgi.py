"""The ASGI application: Django's HTTP views, and the WebSockets of live sessions (`/v1/realtime`).

`manage.py runserver` serves it (daphne's runserver); production runs it under uvicorn
(`uvicorn config.asgi:application`), beside gunicorn for HTTP or alone.
"""

import os

from django.core.asgi import get_asgi_application

# As config.wsgi: production unless told otherwise.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

http_application = get_asgi_application()  # sets Django up before the routes import models

from channels.routing import ProtocolTypeRouter  # noqa: E402

from config.chunked_bodies import AsgiChunkedBodies  # noqa: E402
from realtime.routing import websocket_application  # noqa: E402

application = ProtocolTypeRouter({"http": AsgiChunkedBodies(http_application), "websocket": websocket_application})
