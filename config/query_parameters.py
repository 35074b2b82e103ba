"""The query parameters the server accepts are the ones the OpenAPI schema declares."""

import re
import threading
from functools import cache

from django.http import JsonResponse
from drf_spectacular.generators import SchemaGenerator

UNKNOWN = "This operation has no such parameter."


class KnownQueryParametersMiddleware:
    """An `/api/` request naming a query parameter its operation does not declare in the OpenAPI
    schema is a 400 naming it: a misspelt filter (`?stauts=failed`) must not quietly mean no filter.
    What the server accepts and what the schema says are then one list."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/api/") and request.GET:
            declared = _declared_query_parameters(request.method, request.path)
            unknown = sorted(set(request.GET) - declared) if declared is not None else []
            if unknown:
                errors = {name: [UNKNOWN] for name in unknown}
                return JsonResponse({"detail": "Invalid input.", "code": "invalid", "errors": errors}, status=400)
        return self.get_response(request)


def _declared_query_parameters(method: str, path: str) -> frozenset[str] | None:
    """The query parameters the schema declares for this operation; None when it has no such operation
    (the path's own answer, such as 405, then stands)."""
    for pattern, operations in _paths():
        if pattern.match(path):
            return operations.get(method)
    return None


_schema_lock = threading.Lock()


@cache
def _paths() -> list[tuple[re.Pattern, dict[str, frozenset[str]]]]:
    # One thread builds it: `cache` lets several threads of a worker run this at once on their
    # first requests, and drf-spectacular's loading of its extensions is not safe to run twice at
    # once (a thread saw another's half-loaded extension and answered 500).
    with _schema_lock:
        schema = SchemaGenerator().get_schema(request=None, public=True)
    return [
        (
            re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(path)) + "$"),
            {
                method.upper(): frozenset(
                    parameter["name"] for parameter in operation.get("parameters", []) if parameter["in"] == "query"
                )
                for method, operation in operations.items()
            },
        )
        # Literal paths first: `/api/transcriptions/export_csv/` is not `/api/transcriptions/{id}/`.
        for path, operations in sorted(schema["paths"].items(), key=lambda item: item[0].count("{"))
    ]
