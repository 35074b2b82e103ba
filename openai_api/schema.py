"""`/v1` in the OpenAPI schema: its own tag, and its errors in OpenAI's shape."""

from typing import Any, Literal

from rest_framework.serializers import Serializer

from config.schema import AutoSchema
from openai_api.serializers import (
    OpenAIErrorSerializer,
    OpenAITranscriptionDiarizedSerializer,
    OpenAITranscriptionSerializer,
    OpenAITranscriptionVerboseSerializer,
)

TAG = "OpenAI-compatible API"

COMMON_ERRORS = {
    400: "`invalid_value`, `missing_required_parameter`, `unknown_parameter`, `unsupported_parameter`, "
    "`unsupported_value`: `param` names the field (or query parameter: none is taken).",
    401: "`invalid_api_key`: no bearer token, or not a valid API key or access token.",
    404: "`model_not_found`, `not_found`.",
    415: "`unsupported_media_type`: send the body as the media type this operation takes.",
    429: "`rate_limit_exceeded` (type `requests`): too many requests; `Retry-After` says when to try again.",
    503: "`service_unavailable`: the database is briefly unreachable; `Retry-After` says when to try again.",
}


class OpenAIAutoSchema(AutoSchema):
    error_serializer = OpenAIErrorSerializer
    common_error_descriptions = COMMON_ERRORS

    def get_tags(self) -> list[str]:
        return [TAG]


class TranscriptionSchema(OpenAIAutoSchema):
    """A transcription's JSON answer has the shape its `response_format` asks for: any of three."""

    shapes: tuple[type[Serializer], ...] = (
        OpenAITranscriptionSerializer,
        OpenAITranscriptionVerboseSerializer,
        OpenAITranscriptionDiarizedSerializer,
    )

    def _get_response_bodies(self, direction: Literal["request", "response"] = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        refs = [self.resolve_serializer(shape(), direction).ref for shape in self.shapes]
        responses["200"]["content"]["application/json"]["schema"] = {"anyOf": refs}
        return responses


class TranslationSchema(TranscriptionSchema):
    """A translation's JSON answer: `json` or `verbose_json` (no speakers)."""

    shapes = (OpenAITranscriptionSerializer, OpenAITranscriptionVerboseSerializer)
