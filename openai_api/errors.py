"""Errors on `/v1` in OpenAI's shape: `{"error": {"message", "type", "param", "code"}}`.

The project's one handler (`config.exceptions.api_exception_handler`) still decides what each
failure is: its status, its code, its message. This module only says it the way OpenAI's API says
it, so an OpenAI SDK raises what it would raise against OpenAI: `AuthenticationError` (401),
`BadRequestError` (400), `NotFoundError` (404), `RateLimitError` (429), `InternalServerError` (5xx).
Where OpenAI's meaning differs from ours, the answer follows OpenAI's: a wallet that cannot pay is
429 `insufficient_quota` (not our 400 `insufficient_balance`), any refused token is 401
`invalid_api_key`, throttling is 429 `rate_limit_exceeded`.
"""

import logging
from typing import Any

from rest_framework import exceptions, status
from rest_framework.response import Response

from config.exceptions import DomainError, api_exception_handler, flatten_errors

logger = logging.getLogger(__name__)

# The SDKs retry 408, 409, 429 and 5xx answers unless this header says not to.
SHOULD_RETRY_HEADER = "x-should-retry"

# The parameter each of our own codes is about, when the error does not say.
PARAM_OF_CODE = {
    "empty_file": "file",
    "file_too_large": "file",
    "unsupported_format": "file",
    "invalid_audio": "file",
    "audio_too_long": "file",
    "unsupported_model": "model",
    "model_not_found": "model",
    "unsupported_language": "language",
}
# DRF's field error codes, as OpenAI names them; ours (`unsupported_parameter`, `unsupported_value`)
# stay, and any other problem with a value is `invalid_value`.
FIELD_CODES = {
    "required": "missing_required_parameter",
    "null": "missing_required_parameter",
    "blank": "missing_required_parameter",
    "empty": "empty_file",
}
OWN_FIELD_CODES = frozenset({"unsupported_parameter", "unsupported_value", "unknown_parameter"})


class ModelNotFound(DomainError):
    status_code = status.HTTP_404_NOT_FOUND
    code = "model_not_found"
    default_detail = "The model does not exist here. GET /v1/models lists the models this server has."


class UnsupportedParameter(DomainError):
    """A parameter of OpenAI's API that this server does not serve, or not with that value."""

    code = "unsupported_parameter"
    default_detail = "This parameter is not supported by this server."


class UnknownParameter(DomainError):
    code = "unknown_parameter"
    default_detail = "Unrecognized request argument supplied."


class TranscriptionStillRunning(DomainError):
    """The job outlived the request's wait: it goes on, and is charged when it completes."""

    status_code = status.HTTP_504_GATEWAY_TIMEOUT
    code = "transcription_still_running"
    default_detail = (
        "The transcription is still running and will be completed (and charged) as usual; "
        "find it at GET /api/transcriptions/{id}/ rather than sending the file again."
    )


def error_body(*, message: str, type: str, code: str | None, param: str | None = None, **extra: Any) -> dict:
    return {"error": {"message": message, "type": type, "param": param, "code": code, **extra}}


def openai_exception_handler(exc: Exception, context: dict) -> Response:
    """DRF's exception handler for the `/v1` views (their `get_exception_handler`)."""
    response = api_exception_handler(exc, context)
    if response is None:  # unexpected: a 500 in OpenAI's shape, logged with the request id
        logger.error("Unexpected error on %s", context["request"].path, exc_info=exc)
        return Response(
            error_body(
                message="The server had an error while processing your request.", type="server_error", code=None
            ),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    ours = dict(response.data)
    code, message = ours.pop("code"), ours.pop("detail")
    param = ours.pop("param", None) or PARAM_OF_CODE.get(code)
    errors = ours.pop("errors", None)
    if errors:  # invalid input: name the first parameter, as OpenAI does
        param, problems = next(iter(errors.items()))
        message = f"{param}: {problems[0]}" if param != "non_field_errors" else problems[0]
        param = None if param == "non_field_errors" else param
        code = _field_code(exc, param)
    kind = "server_error" if response.status_code >= 500 else "invalid_request_error"
    if response.status_code == status.HTTP_401_UNAUTHORIZED:
        code = "invalid_api_key"
        message = (
            "No API key was given: send `Authorization: Bearer <API key or access token>`."
            if isinstance(exc, exceptions.NotAuthenticated)
            else f"Incorrect API key or access token provided: {str(message).rstrip('.')}."
        )
    elif code == "insufficient_balance":
        response.status_code = status.HTTP_429_TOO_MANY_REQUESTS
        code = kind = "insufficient_quota"
        message = f"{message} Top up your wallet (POST /api/wallet/create_order/); nothing was held or charged."
    elif isinstance(exc, exceptions.Throttled):
        code, kind = "rate_limit_exceeded", "requests"
    if code in ("insufficient_quota", TranscriptionStillRunning.code):
        response[SHOULD_RETRY_HEADER] = "false"  # sending it again cannot help: it would only pay twice
    response.data = error_body(message=message, type=kind, code=code, param=param, **ours)
    return response


def _field_code(exc: Exception, param: str | None) -> str:
    """OpenAI's code for the first problem of a parameter: `missing_required_parameter`, or the
    code our validation gave (`unsupported_parameter`, `unsupported_value`, `invalid_value`)."""
    if isinstance(exc, exceptions.ValidationError) and param is not None:
        codes = flatten_errors(exc.get_codes()).get(param)
        if codes:
            code = str(codes[0])
            return code if code in OWN_FIELD_CODES else FIELD_CODES.get(code, "invalid_value")
    return "invalid_value"
