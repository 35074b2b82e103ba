"""Liveness, readiness, metrics, the favicon, and the JSON error pages Django serves outside DRF."""

import hmac
import logging
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import Resolver404, resolve
from django.views.decorators.csrf import csrf_exempt
from django_prometheus.exports import ExportToDjangoView

from config.celery import app as celery_app

logger = logging.getLogger(__name__)


# What browsers ask every page of the admin and the API docs for: a microphone, in one colour.
FAVICON = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect x="5" y="1" width="6" height="9" rx="3" '
    'fill="#417690"/><path d="M3 8a5 5 0 0 0 10 0M8 13v2" stroke="#417690" fill="none" stroke-width="1.5"/></svg>'
)


def favicon(request):
    response = HttpResponse(FAVICON, content_type="image/svg+xml")
    response["Cache-Control"] = "public, max-age=86400"
    return response


# The docs pages load everything from here (drf-spectacular-sidecar); the policy makes the browser
# refuse whatever a bundle would still fetch elsewhere (Redoc's sidebar asks cdn.redoc.ly for its
# maker's logo, and hides it when refused). Inline scripts and styles are the pages' own set-up.
DOCS_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'"
)


def same_origin_only(view):
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response["Content-Security-Policy"] = DOCS_CONTENT_SECURITY_POLICY
        return response

    return wrapped


def health(request):
    return JsonResponse({"status": "ok"})


def ready(request):
    """Database, cache and (when jobs go to workers) the broker; 503 naming what is down."""
    checks = {"database": _check(_database), "cache": _check(_cache)}
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        checks["broker"] = _check(_broker)
    healthy = all(result == "ok" for result in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": checks}, status=200 if healthy else 503
    )


def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus metrics, for whoever sends `Authorization: Bearer <METRICS_TOKEN>`; without a
    token configured, only where the settings open them (the embedded default). django_prometheus's
    own view answers, so PROMETHEUS_MULTIPROC_DIR still adds every process up.

    A missing or wrong token is the same 404 as a path that does not exist (and as metrics turned
    off): a caller without the token learns nothing, not even that metrics are served here."""
    if not _may_read_metrics(request):
        raise Http404
    return ExportToDjangoView(request)


def _may_read_metrics(request: HttpRequest) -> bool:
    if not settings.METRICS_TOKEN:
        return settings.METRICS_OPEN_WITHOUT_TOKEN
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    # In constant time: how much of a guess matched must not show in how long the answer takes.
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), settings.METRICS_TOKEN.encode())


def _check(probe) -> str:
    try:
        probe()
    except Exception:
        logger.warning("readiness: %s failed", probe.__name__.strip("_"), exc_info=True)
        return "unavailable"
    return "ok"


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _cache() -> None:
    # django-redis may be set to swallow errors; a round trip proves the cache really answers.
    cache.set("ready-probe", "1", timeout=5)
    if cache.get("ready-probe") != "1":
        raise ConnectionError("cache did not return what was stored")


def _broker() -> None:
    with celery_app.connection_for_write(settings.CELERY_BROKER_URL) as conn:
        conn.ensure_connection(max_retries=1, timeout=2)


def bad_request(request, exception=None):
    return JsonResponse({"detail": "Bad request.", "code": "bad_request"}, status=400)


def server_error(request, *args, **kwargs):
    return JsonResponse({"detail": "Internal server error.", "code": "server_error"}, status=500)


def not_found(request, exception=None):
    return JsonResponse({"detail": "Not found.", "code": "not_found"}, status=404)


@csrf_exempt  # a DELETE or POST to a URL that does not exist is a 404, not a CSRF failure
def api_not_found(request, rest: str = ""):
    """Any `/api/` URL that matches nothing, in every mode (DEBUG's HTML page and its APPEND_SLASH
    error for a POST included): a JSON 404 that names the URL meant when only the slash is missing."""
    detail = "Not found."
    if not request.path.endswith("/") and _resolves(request.path + "/"):
        detail = f"Not found. API URLs end with a slash: {request.path}/"
    return JsonResponse({"detail": detail, "code": "not_found"}, status=404)


def _resolves(path: str) -> bool:
    try:
        match = resolve(path)
    except Resolver404:
        return False
    return match.func is not api_not_found
