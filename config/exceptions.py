"""Domain errors and the one handler that gives every API error the same shape:
`{"detail": str, "code": str}` plus `"errors": {field: [...]}` for validation."""

import logging

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404
from django.utils.text import capfirst
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from config.metrics import provider_errors_total

logger = logging.getLogger(__name__)


class DomainError(Exception):
    """Base of the errors services raise: each carries an HTTP status and a stable code."""

    status_code: int = status.HTTP_400_BAD_REQUEST
    code: str = "error"
    default_detail: str = "The request could not be completed."
    # Set on errors that mean an outside provider failed, so they are counted in /metrics.
    provider: str | None = None

    def __init__(self, detail: str | None = None, **extra: str) -> None:
        self.detail = detail or self.default_detail
        self.extra = extra  # more members of the error body, such as the id of what the request met
        super().__init__(self.detail)


class ServiceUnavailable(DomainError):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    code = "service_unavailable"
    default_detail = "The service is briefly unavailable. Please try again shortly."


def flatten_errors(detail, name: str = "") -> dict[str, list]:
    """A validation error's messages (or its `get_codes()`) by field, a nested object's under dotted
    names (`expires_after.seconds`, as OpenAI names parameters). A list's items stay under the
    list's own name, as the request named it (`events`, a form's `timestamp_granularities[]`), and
    a nested object's own non-field errors under the object's."""
    flat: dict[str, list] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            if isinstance(key, int) or (key == "non_field_errors" and name):  # an item of a list field, or the object
                inner = name
            else:
                inner = f"{name}.{key}" if name else str(key)
            for field, errors in flatten_errors(value, inner).items():
                flat.setdefault(field, []).extend(errors)
    elif isinstance(detail, list) and any(isinstance(item, dict | list) for item in detail):
        for item in detail:  # a many=True serializer: one entry per item, {} where valid
            for field, errors in flatten_errors(item, name).items():
                flat.setdefault(field, []).extend(errors)
    else:
        flat[name or "non_field_errors"] = detail if isinstance(detail, list) else [detail]
    return flat


def _not_found_detail(context) -> str:
    """`Transcription not found.`: names what the URL asked for, as the domain's own 404s do."""
    get_queryset = getattr(context.get("view"), "get_queryset", None)
    if get_queryset is None:  # a plain APIView: nothing to name
        return "Not found."
    return f"{capfirst(get_queryset().model._meta.verbose_name)} not found."  # "API key", not "Api key"


def api_exception_handler(exc, context):
    if isinstance(exc, OperationalError | InterfaceError):
        # The database is unreachable (or a lock wait gave up): transient, so a 503 to retry, not a 500.
        logger.error("database unavailable", exc_info=exc)
        unavailable = Response(
            {"detail": ServiceUnavailable.default_detail, "code": ServiceUnavailable.code}, status=503
        )
        unavailable["Retry-After"] = "5"
        return unavailable
    if isinstance(exc, DomainError):
        if exc.provider:
            provider_errors_total.labels(provider=exc.provider, kind=exc.code).inc()
        return Response({"detail": exc.detail, "code": exc.code, **exc.extra}, status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(_not_found_detail(context))
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = exception_handler(exc, context)
    if response is None:
        return None  # Unexpected: Django logs it and answers a plain 500 without a trace.

    if isinstance(exc, exceptions.ValidationError):
        errors = {field: [str(item) for item in items] for field, items in flatten_errors(exc.detail).items()}
        non_field = errors.get("non_field_errors")
        response.data = {
            "detail": non_field[0] if non_field is not None and len(errors) == 1 else "Invalid input.",
            "code": "invalid",
            "errors": errors,
        }
    elif isinstance(exc.detail, dict):  # simplejwt's token errors carry their own detail and code
        response.data = {
            "detail": str(exc.detail.get("detail", exc.default_detail)),
            "code": str(exc.detail.get("code", exc.default_code)),
        }
    else:
        response.data = {"detail": str(exc.detail), "code": getattr(exc.detail, "code", exc.default_code)}
    return response
