from typing import Any

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object

from accounts.api_key_authentication import ApiKeyAuthentication, JwtRequired


class CachedUserJWTScheme(SimpleJWTScheme):
    """Documents our JWT authentication as the bearer scheme it is."""

    target_class = "accounts.authentication.CachedUserJWTAuthentication"


class ApiKeyScheme(OpenApiAuthenticationExtension):
    """API keys, also sent as a bearer token; not offered on the operations that refuse them."""

    target_class = "accounts.api_key_authentication.ApiKeyAuthentication"
    name = "apiKeyAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return build_bearer_security_scheme_object(
            header_name="HTTP_AUTHORIZATION", token_prefix=ApiKeyAuthentication.keyword, bearer_format="API key (sk-…)"
        )

    def get_security_requirement(self, auto_schema: Any) -> dict[str, list[Any]] | None:  # type: ignore[override]
        if any(isinstance(permission, JwtRequired) for permission in auto_schema.view.get_permissions()):
            return None  # a JWT only here: an API key is 403 `api_key_not_allowed`
        return {self.name: []}
