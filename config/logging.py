"""Request ids and one structured log line per request."""

import logging
import re
import time
import uuid
from contextvars import ContextVar

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")
access_logger = logging.getLogger("request")

REQUEST_ID_HEADER = "X-Request-ID"
# A caller's id (from the proxy) is kept only when it is short and plain, so logs cannot be forged.
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestIdFilter(logging.Filter):
    """Stamps every log record with the id of the request being served (or "-")."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class ServerHttpLineFilter(logging.Filter):
    """Drops the ASGI server's own line for an HTTP request (runserver's, `django.channels.server`):
    the request's line above says it, with its id. Its WebSocket lines (connect, disconnect) stay."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (isinstance(record.args, dict) and "status" in record.args)


class RequestLogMiddleware:
    """Gives each request an id (returned in `X-Request-ID`) and logs one line when it is answered:
    method, path, status, duration and the authenticated user."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request_id
            user = getattr(request, "user", None)
            access_logger.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    "user_id": str(user.pk) if user is not None and user.is_authenticated else None,
                },
            )
            return response
        finally:
            request_id_var.reset(token)
