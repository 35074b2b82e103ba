"""Provider token verification, through django-allauth's own provider code.

Only `accounts.services` imports this. Each call returns allauth's unsaved `SocialLogin` or raises
one of our domain errors; nothing here writes to the database.
"""

import logging
from urllib.parse import urlsplit

import requests
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.models import SocialApp, SocialLogin
from allauth.socialaccount.providers.base import Provider
from allauth.socialaccount.providers.facebook import flows as facebook_flows
from allauth.socialaccount.providers.google import views as google_views
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from accounts.exceptions import InvalidProviderToken, ProviderNotConfigured, ProviderUnavailable
from config.exceptions import DomainError

GOOGLE_TOKENINFO_URL = "https://oauth2.googleapis.com/tokeninfo"

logger = logging.getLogger(__name__)


def social_login_verify(
    *, request: HttpRequest, provider: str, id_token: str = "", access_token: str = ""
) -> SocialLogin:
    """Verify a Google ID token (preferred when both are given) or access token, or a Facebook
    access token, with the provider.

    Raises `ProviderNotConfigured` (no client id or secret set, or Facebook refuses ours),
    `InvalidProviderToken` (bad signature, audience or issuer, expired, replayed, malformed, or
    refused by the provider) and `ProviderUnavailable` (unreachable, timed out, 5xx, unreadable).
    """
    try:
        provider_obj = get_adapter(request).get_provider(request, provider)
    except SocialApp.DoesNotExist as exc:
        raise ProviderNotConfigured() from exc
    try:
        if provider == "facebook":
            return _facebook_login(request, provider_obj, access_token)
        if id_token:
            # allauth checks the signature against Google's certificates, the audience (our client
            # id), the issuer, the expiry, and that the `jti` was never seen before (in the cache).
            return provider_obj.verify_token(request, {"id_token": id_token})
        return _google_access_token_login(request, provider_obj, access_token)
    except (ValidationError, OAuth2Error, requests.RequestException, KeyError, ValueError) as exc:
        # KeyError and ValueError: allauth reading a token or an answer that lacks a field it needs.
        raise _verification_error(provider, exc) from exc


def _facebook_login(request: HttpRequest, provider: Provider, access_token: str) -> SocialLogin:
    try:
        # Fetched (and cached by allauth for 5 minutes) before the user's token is looked at, so that
        # Facebook refusing our app id and secret is not mistaken for a bad user token.
        facebook_flows.get_app_token(provider)
    except requests.HTTPError as exc:
        if _is_refusal(exc.response) and exc.response is not None:
            logger.error("Facebook refused FACEBOOK_APP_ID/FACEBOOK_APP_SECRET: %s", exc.response.text[:500])
            raise ProviderNotConfigured("Facebook refused this server's app credentials.") from exc
        raise
    # allauth asks Graph's debug_token whether the token is valid and was issued to our app id,
    # then reads /me with an appsecret_proof.
    return provider.verify_token(request, {"access_token": access_token})


def _google_access_token_login(request: HttpRequest, provider: Provider, access_token: str) -> SocialLogin:
    """allauth's `verify_token` reads only ID tokens. An access token must have been issued to our
    client id (Google's tokeninfo says so, and refuses expired ones); the profile it grants is then
    turned into a `SocialLogin` by the provider, as allauth's own OAuth2 callback does."""
    with get_adapter(request).get_requests_session() as session:
        info = session.get(GOOGLE_TOKENINFO_URL, params={"access_token": access_token})
        info.raise_for_status()
        if info.json().get("aud") != provider.app.client_id:
            raise OAuth2Error("access token issued to another client")
        profile = session.get(google_views.IDENTITY_URL, headers={"Authorization": f"Bearer {access_token}"})
        profile.raise_for_status()
    return provider.sociallogin_from_response(request, profile.json())


def _is_refusal(response: requests.Response | None) -> bool:
    """A 4xx other than 429 is the provider saying no; anything else is it failing to answer."""
    return response is not None and 400 <= response.status_code < 500 and response.status_code != 429


def _verification_error(provider: str, exc: Exception) -> DomainError:
    # allauth's `verify_token` wraps what went wrong in a ValidationError: its cause tells a
    # refused token from a provider that could not answer.
    cause = exc.__cause__ if isinstance(exc, ValidationError) and exc.__cause__ else exc
    if isinstance(cause, requests.RequestException) and not (
        isinstance(cause, requests.HTTPError) and _is_refusal(cause.response)
    ):
        logger.warning("%s sign-in: provider unavailable: %s", provider, _describe(cause))
        return ProviderUnavailable()
    # allauth's OAuth2Error wraps PyJWT's precise reason (audience, issuer, expiry, signature).
    logger.info("%s sign-in: token refused: %s", provider, _describe(cause.__cause__ or cause))
    return InvalidProviderToken()


def _describe(exc: BaseException) -> str:
    """The error for the log, without the URL's query string: allauth sends tokens there."""
    if isinstance(exc, requests.RequestException) and exc.request is not None:
        url = urlsplit(str(exc.request.url))
        status = exc.response.status_code if exc.response is not None else "no answer"
        return f"{type(exc).__name__} ({status}) from {url.scheme}://{url.netloc}{url.path}"
    return repr(exc)
