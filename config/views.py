"""Liveness, readiness and the JSON error pages Django serves outside DRF."""

import logging

from django.db import connection
from django.http import JsonResponse

logger = logging.getLogger(__name__)


def health(request):
    return JsonResponse({"status": "ok"})


def ready(request):
    checks = {"database": _check_database()}
    healthy = all(result == "ok" for result in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": checks}, status=200 if healthy else 503
    )


def _check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except Exception:
        logger.exception("readiness: database unreachable")
        return "unavailable"


def server_error(request, *args, **kwargs):
    return JsonResponse({"detail": "Internal server error.", "code": "server_error"}, status=500)


def not_found(request, exception=None):
    return JsonResponse({"detail": "Not found.", "code": "not_found"}, status=404)
