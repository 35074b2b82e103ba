"""API keys on the API: `Authorization: Bearer sk-…` signs in as the key's owner.

`ApiKeyAuthentication` takes every bearer token that starts with `sk-` and leaves any other to
the JWT class, which in turn never reads an `sk-` token. Any other way in that takes keys (`/v1`,
a WebSocket handshake) can list this class as it is, or call
`accounts.services.api_key_authenticate` with the key itself.

`JwtRequired` is for what a leaked key must not reach: managing keys, deleting or exporting the
account. A request with a key there is 403 `api_key_not_allowed`.
"""

from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework_simplejwt.authentication import AUTH_HEADER_TYPES

from accounts.models import API_KEY_PREFIX, ApiKey, User


class ApiKeyAuthentication(BaseAuthentication):
    """`request.user` is the key's owner and `request.auth` the `ApiKey`. A malformed, unknown or
    revoked key, or one of a deleted account, is 401 `invalid_api_key`."""

    keyword = AUTH_HEADER_TYPES[0]  # "Bearer", as for JWTs and OpenAI's clients

    def authenticate(self, request: Request) -> tuple[User, ApiKey] | None:
        # Imported here: DRF imports this module while `rest_framework.views` loads (for the default
        # authentication classes), which can be before the domain errors and services can load.
        from accounts.exceptions import InvalidApiKey
        from accounts.services import api_key_authenticate

        parts = get_authorization_header(request).split()
        if len(parts) < 2 or parts[0].decode("latin-1") not in AUTH_HEADER_TYPES:
            return None
        if not parts[1].startswith(API_KEY_PREFIX.encode()):
            return None  # a JWT
        if len(parts) > 2:
            raise AuthenticationFailed(InvalidApiKey.default_detail, code=InvalidApiKey.code)
        try:
            api_key = api_key_authenticate(key=parts[1].decode("latin-1"))
        except InvalidApiKey as exc:
            raise AuthenticationFailed(exc.detail, code=exc.code) from exc
        return api_key.user, api_key

    def authenticate_header(self, request: Request) -> str:
        return f'{self.keyword} realm="api"'


class JwtRequired(BasePermission):
    message = "An API key cannot do this: sign in (with a JWT) to manage API keys or to export or delete the account."
    code = "api_key_not_allowed"

    def has_permission(self, request: Request, view: object) -> bool:
        return not isinstance(request.auth, ApiKey)
