"""Who may open a live session: the WebSocket handshake's `Authorization: Bearer <API key or JWT>`,
and its `Origin` when a browser sends one. Blocking (database): call through `database_sync_to_async`."""

from urllib.parse import urlsplit

from django.conf import settings
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError

from accounts.authentication import CachedUserJWTAuthentication
from accounts.exceptions import InvalidApiKey
from accounts.models import API_KEY_PREFIX, User
from accounts.services import api_key_authenticate
from realtime.client_secrets import SECRET_PREFIX, Caller, client_secret_redeem

# Browsers cannot set headers: they pass a credential as a subprotocol (OpenAI's convention).
KEY_SUBPROTOCOL = "openai-insecure-api-key."


def handshake_caller(*, authorization: str, subprotocols: list[str]) -> Caller | None:
    """The signed-in user of an `Authorization` header, or else of the subprotocol
    `openai-insecure-api-key.<one-use secret or API key>`, with the API key behind it; None for a
    missing, malformed, unknown, used, revoked or expired credential (the handshake is refused,
    whichever it was)."""
    if not authorization:
        offered = [p.removeprefix(KEY_SUBPROTOCOL) for p in subprotocols if p.startswith(KEY_SUBPROTOCOL)]
        if len(offered) != 1:
            return None
        if offered[0].startswith(SECRET_PREFIX):
            return client_secret_redeem(value=offered[0])
        authorization = f"Bearer {offered[0]}"
    scheme, _, credential = authorization.strip().partition(" ")
    credential = credential.strip()
    if scheme.lower() != "bearer" or not credential or " " in credential:
        return None
    if credential.startswith(API_KEY_PREFIX):
        try:
            api_key = api_key_authenticate(key=credential)
        except InvalidApiKey:
            return None
        return Caller(api_key.user, api_key.pk)
    jwt = CachedUserJWTAuthentication()
    try:
        user = jwt.get_user(jwt.get_validated_token(credential.encode()))  # type: ignore[no-untyped-call]
    except (InvalidToken, TokenError, AuthenticationFailed):
        return None
    return Caller(user, None) if isinstance(user, User) and user.is_active else None


def origin_allowed(*, origin: str | None, host: str | None) -> bool:
    """A browser's page may open a session from an origin the API allows (CORS_ALLOWED_ORIGINS) or
    from this server's own pages. Servers and SDKs send no `Origin`: they are never refused for that."""
    if origin is None:
        return True
    if origin in settings.CORS_ALLOWED_ORIGINS:
        return True
    parts = urlsplit(origin)
    return bool(host) and parts.scheme in ("http", "https") and parts.netloc == host
