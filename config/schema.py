"""The OpenAPI schema tells every status an operation can answer, each error with its body.

Every error answer has one shape, the `Error` component. An operation lists the errors its view
declares (with `@extend_schema`, naming their codes) and, added here, those every view of its
kind can answer: 400 for invalid input or query parameters, 401 without a valid token, 404 for a missing object or
page, 415 for a body that is not the operation's media type, 429 past the rate limits, and 503
while the database is unreachable.
"""

from typing import Any

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers
from rest_framework.permissions import AllowAny


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What went wrong, for a person.")
    code = serializers.CharField(help_text="What went wrong, for a program: stable, snake_case.")
    errors = serializers.DictField(  # type: ignore[assignment]  # a field, not Serializer.errors: the metaclass moves it
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="For `invalid`: the problems of each field (or query parameter) by name.",
    )


IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_KEY_MAX_LENGTH = 255


def idempotency_key_parameter(*, description: str) -> OpenApiParameter:
    """The `Idempotency-Key` request header: 1 to 255 printable ASCII characters."""
    schema = {"type": "string", "minLength": 1, "maxLength": IDEMPOTENCY_KEY_MAX_LENGTH, "pattern": "^[\\x20-\\x7E]+$"}
    return OpenApiParameter(IDEMPOTENCY_HEADER, schema, OpenApiParameter.HEADER, description=description)


COMMON_ERRORS = {
    400: "`invalid`: the input is not valid, or a query parameter is unknown, repeated or empty; `errors` names "
    "each field's or parameter's problems.",
    401: "`not_authenticated`, `token_not_valid`, `session_ended`: sign in again (or refresh the access token); "
    "`invalid_api_key`: the API key is unknown, revoked or malformed.",
    404: "`not_found`: no such object of yours, or no such page.",
    415: "`unsupported_media_type`: send the body as the media type this operation takes.",
    429: "`throttled`: too many requests; `Retry-After` says when to try again.",
    503: "`service_unavailable`: the database is briefly unreachable; `Retry-After` says when to try again.",
}


def error(description: str, serializer: type[serializers.Serializer] = ErrorSerializer) -> OpenApiResponse:
    """An error answer for `@extend_schema(responses=...)`: its codes and when it happens."""
    return OpenApiResponse(serializer, description=description)


class AutoSchema(SpectacularAutoSchema):
    # What an error answer looks like, and what the errors every operation of its kind can answer mean.
    # An API with another error shape (the OpenAI-compatible one) brings its own.
    error_serializer: type[serializers.Serializer] = ErrorSerializer
    common_error_descriptions: dict[int, str] = COMMON_ERRORS

    def _get_response_bodies(self, direction="response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        for code, response in list(responses.items()):
            if int(code) >= 400 and "content" not in response:  # declared with a description only
                declared = error(response["description"], self.error_serializer)
                responses[code] = self._get_response_for_code(declared, code, direction=direction)
        for status_code in self._common_errors():
            if str(status_code) not in responses:
                common = error(self.common_error_descriptions[status_code], self.error_serializer)
                responses[str(status_code)] = self._get_response_for_code(common, str(status_code), direction=direction)
        return dict(sorted(responses.items()))

    def _common_errors(self) -> list[int]:
        codes = [400, 503]  # 400: every operation refuses query parameters it does not declare
        has_body = self.method in ("POST", "PUT", "PATCH") and self.get_request_serializer() is not None
        if not all(isinstance(permission, AllowAny) for permission in self.view.get_permissions()):
            codes.append(401)
        if "{" in self.path or self._is_list_view():
            codes.append(404)
        if has_body:
            codes.append(415)
        # Throttled unless the view opts out; test settings turn throttling off, the schema stays the same.
        if "throttle_classes" not in vars(type(self.view)) or type(self.view).throttle_classes:
            codes.append(429)
        return codes
