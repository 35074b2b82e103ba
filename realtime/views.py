"""`POST /v1/realtime/client_secrets`: what a browser needs to open a live session."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.authentication import signed_in_user
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
        },
    )
    def post(self, request: Request) -> Response:
        """A one-use secret that opens one live session (`wss://…/v1/realtime?intent=transcription`
        with the subprotocols `realtime` and `openai-insecure-api-key.<value>`) within its `expires_at`."""
        data = ClientSecretInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        seconds = data.validated_data.get("expires_after", {}).get("seconds", client_secret_seconds())
        value, expires_at = client_secret_issue(user=signed_in_user(request), seconds=seconds)
        session = protocol.session_body(protocol.new_id("sess"), protocol.SessionConfig())
        return Response({"value": value, "expires_at": expires_at, "session": session})
