"""`POST /v1/realtime/client_secrets`: what a browser needs to open a live session; and `/try/`."""

from pathlib import Path

from django.http import Http404, HttpRequest, HttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.authentication import signed_in_user
from accounts.models import ApiKey
from config.exceptions import DomainError
from openai_api.views import OpenAIView
from realtime import protocol
from realtime.client_secrets import client_secret_issue, client_secret_seconds
from realtime.serializers import ClientSecretInputSerializer, ClientSecretSerializer


class ClientSecretView(OpenAIView):
    @extend_schema(
        operation_id="v1_realtime_client_secrets_create",
        request=ClientSecretInputSerializer,
        responses={
            200: ClientSecretSerializer,
            400: OpenApiResponse(description="`invalid_value`: `expires_after.seconds` is 10 to 60."),
            503: OpenApiResponse(
                description="`service_unavailable`: the cache that keeps the secrets (Redis) is unreachable; "
                "no secret is issued."
            ),
        },
    )
    def post(self, request: Request) -> Response:
        """A one-use secret that opens one live session (`wss://…/v1/realtime?intent=transcription`
        with the subprotocols `realtime` and `openai-insecure-api-key.<value>`) within its `expires_at`."""
        data = ClientSecretInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        seconds = data.validated_data.get("expires_after", {}).get("seconds", client_secret_seconds())
        session = data.validated_data.get("session")
        config = protocol.SessionConfig()
        if session is not None:  # checked now as a session.update is: the session starts with it
            try:
                config = protocol.session_config_update(config, {"session": session})
            except protocol.ProtocolError as exc:
                raise SessionRefused(exc.code, exc.message, param=exc.param or "session") from exc
        api_key_id = request.auth.pk if isinstance(request.auth, ApiKey) else None
        value, expires_at = client_secret_issue(
            user=signed_in_user(request), api_key_id=api_key_id, seconds=seconds, session=session
        )
        body = protocol.session_body(protocol.new_id("sess"), config)
        return Response({"value": value, "expires_at": expires_at, "session": body})


class SessionRefused(DomainError):
    """A `session` the live protocol refuses, with the code and field a `session.update` would get."""

    def __init__(self, code: str, message: str, *, param: str) -> None:
        super().__init__(message, param=param)
        self.code = code


# --- /try/: a static page to try the API from a browser --------------------------------------------

TRY_DIR = Path(__file__).resolve().parent / "try_page"
TRY_FILES = {
    "": ("index.html", "text/html; charset=utf-8"),
    "try.js": ("try.js", "text/javascript; charset=utf-8"),
    "pcm-worklet.js": ("pcm-worklet.js", "text/javascript; charset=utf-8"),
}
# Its own files only: no CDN, nothing inline but its styles; it talks to this server alone.
TRY_CONTENT_SECURITY_POLICY = "default-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'"


def try_page(request: HttpRequest, name: str = "") -> HttpResponse:
    """`/try/` and its two scripts, read from `realtime/try_page/` (served the same by every server,
    whatever serves static files)."""
    if name not in TRY_FILES:
        raise Http404()
    filename, content_type = TRY_FILES[name]
    response = HttpResponse((TRY_DIR / filename).read_bytes(), content_type=content_type)
    response["Content-Security-Policy"] = TRY_CONTENT_SECURITY_POLICY
    return response
