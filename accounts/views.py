from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt import views as simplejwt_views
from rest_framework_simplejwt.serializers import TokenRefreshSerializer

from accounts.api_key_authentication import JwtRequired
from accounts.authentication import signed_in_user
from accounts.models import ApiKey
from accounts.selectors import api_key_list
from accounts.serializers import (
    ApiKeyCreatedOutputSerializer,
    ApiKeyCreateInputSerializer,
    ApiKeyOutputSerializer,
    FacebookLoginInputSerializer,
    GoogleLoginInputSerializer,
    LoginOutputSerializer,
    LogoutInputSerializer,
    UserDeleteInputSerializer,
    UserExportOutputSerializer,
    UserOutputSerializer,
)
from accounts.services import (
    MAX_API_KEYS_PER_USER,
    api_key_create,
    api_key_revoke,
    user_erase,
    user_export,
    user_logout,
    user_social_login,
)
from config.filters import require_single_values
from config.schema import error
from config.throttling import ScopedThrottleMixin

API_KEY_NOT_ALLOWED = "`api_key_not_allowed`: sent with an API key; this needs a JWT (sign in)."


class CurrentUserView(APIView):
    def get_permissions(self):  # typed by DRF's stubs with a protocol of their own
        permissions = [*super().get_permissions()]
        if self.request.method == "DELETE":  # a leaked API key must not erase the account
            permissions.append(JwtRequired())
        return permissions

    @extend_schema(responses=UserOutputSerializer, operation_id="auth_user")
    def get(self, request: Request) -> Response:
        return Response(UserOutputSerializer(request.user).data)

    @extend_schema(
        parameters=[UserDeleteInputSerializer],
        responses={
            204: None,
            403: error(API_KEY_NOT_ALLOWED),
            409: error("`transcription_active`: a transcription is running; delete the account once it has ended."),
        },
        operation_id="auth_user_delete",
    )
    def delete(self, request: Request) -> Response:
        """Delete your account for good (`?confirmation=delete-my-account`): your personal data,
        transcripts, audio files and webhooks are erased and every token is revoked. The wallet's
        ledger stays, anonymised; money left in the wallet is not paid out. Signing in again makes a
        new, empty account."""
        require_single_values(request.query_params, UserDeleteInputSerializer().fields)
        UserDeleteInputSerializer(data=request.query_params).is_valid(raise_exception=True)
        user_erase(user=signed_in_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class UserExportView(APIView):
    permission_classes = [IsAuthenticated, JwtRequired]  # what a leaked API key must not read in one go

    @extend_schema(
        responses={200: UserExportOutputSerializer, 403: error(API_KEY_NOT_ALLOWED)}, operation_id="auth_user_export"
    )
    def get(self, request: Request) -> Response:
        """Everything this service holds of you, as JSON."""
        return Response(user_export(user=signed_in_user(request)))


class LogoutView(APIView):
    @extend_schema(request=LogoutInputSerializer, responses={204: None}, operation_id="auth_logout")
    def post(self, request: Request) -> Response:
        data = LogoutInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user_logout(user=signed_in_user(request), refresh=data.validated_data["refresh"])
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(
        responses={200: ApiKeyOutputSerializer(many=True), 403: error(API_KEY_NOT_ALLOWED)},
        description="Your live API keys, newest first; never the keys themselves.",
    )
)
class ApiKeyViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """API keys, for your servers and tools: `Authorization: Bearer sk-…` works on every endpoint but
    these and the account's export and deletion, which need a JWT."""

    serializer_class = ApiKeyOutputSerializer
    permission_classes = [IsAuthenticated, JwtRequired]  # a leaked key cannot make more, or revoke yours
    lookup_value_converter = "uuid"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ApiKey.objects.none()
        return api_key_list(user=signed_in_user(self.request))

    @extend_schema(
        request=ApiKeyCreateInputSerializer,
        responses={
            201: ApiKeyCreatedOutputSerializer,
            400: error(
                f"`invalid` (a name of 1 to 100 characters), `api_key_limit_reached` (at most "
                f"{MAX_API_KEYS_PER_USER} live keys: revoke one first)"
            ),
            403: error(f"{API_KEY_NOT_ALLOWED} `account_disabled`: the account was deleted."),
        },
    )
    def create(self, request: Request) -> Response:
        """Make a key. The answer holds the key itself, shown this once: only its hash is kept."""
        data = ApiKeyCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        issued = api_key_create(user=signed_in_user(request), **data.validated_data)
        return Response(ApiKeyCreatedOutputSerializer(issued).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: None, 403: error(API_KEY_NOT_ALLOWED)})
    def destroy(self, request: Request, pk=None) -> Response:
        """Revoke the key: from this answer on, every request with it is 401 `invalid_api_key`."""
        api_key_revoke(api_key=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


LOGIN_RESPONSES = {
    200: LoginOutputSerializer,
    400: OpenApiResponse(description="`invalid` (no token sent) or `email_required` (the provider shared no email)."),
    401: OpenApiResponse(description="`invalid_provider_token`: bad, expired, replayed or foreign token."),
    403: OpenApiResponse(description="`account_disabled`."),
    409: OpenApiResponse(description="`email_in_use`: the email belongs to an account this sign-in cannot reach."),
    429: OpenApiResponse(description="Too many sign-in attempts (`THROTTLE_RATES` `login`)."),
    503: OpenApiResponse(description="`provider_unavailable` or `provider_not_configured`."),
}


class SocialLoginView(ScopedThrottleMixin, APIView):
    """Exchange a provider's token for our JWT pair, creating the user and its wallet on first sign-in."""

    provider: str
    input_serializer_class: type[serializers.Serializer]

    authentication_classes = []  # a stale bearer token must not stand in the way of signing in again
    permission_classes = [AllowAny]
    throttle_scope = "login"

    def post(self, request: Request) -> Response:
        data = self.input_serializer_class(data=request.data)
        data.is_valid(raise_exception=True)
        result = user_social_login(request=request._request, provider=self.provider, **data.validated_data)
        return Response(LoginOutputSerializer(result).data)


@extend_schema_view(
    post=extend_schema(request=GoogleLoginInputSerializer, responses=LOGIN_RESPONSES, operation_id="auth_google_login")
)
class GoogleLoginView(SocialLoginView):
    provider = "google"
    input_serializer_class = GoogleLoginInputSerializer


@extend_schema_view(
    post=extend_schema(
        request=FacebookLoginInputSerializer, responses=LOGIN_RESPONSES, operation_id="auth_facebook_login"
    )
)
class FacebookLoginView(SocialLoginView):
    provider = "facebook"
    input_serializer_class = FacebookLoginInputSerializer


@extend_schema_view(
    post=extend_schema(
        responses={
            200: TokenRefreshSerializer,
            401: error("`token_not_valid`: the refresh token is expired, blacklisted (used or signed out) or forged."),
        },
        operation_id="auth_token_refresh",
    )
)
class TokenRefreshView(simplejwt_views.TokenRefreshView):
    """A new access token and a new refresh token (the one sent is blacklisted)."""
