from rest_framework import status

from config.exceptions import DomainError


class InvalidRefreshToken(DomainError):
    code = "token_not_valid"
    default_detail = "The refresh token is invalid, expired or already used."


class InvalidProviderToken(DomainError):
    status_code = status.HTTP_401_UNAUTHORIZED
    code = "invalid_provider_token"
    default_detail = "The sign-in token was rejected: it is invalid, expired, already used or issued to another app."


class ProviderUnavailable(DomainError):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    code = "provider_unavailable"
    default_detail = "The sign-in provider could not be reached. Please try again."
    provider = "sign_in"


class ProviderNotConfigured(DomainError):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    code = "provider_not_configured"
    default_detail = "Sign-in with this provider is not set up on this server."


class ProviderEmailMissing(DomainError):
    code = "email_required"
    default_detail = "The provider did not share your email address; allow access to it and sign in again."


class EmailInUse(DomainError):
    status_code = status.HTTP_409_CONFLICT
    code = "email_in_use"
    default_detail = "An account with this email address already exists. Sign in with the provider you used before."


class AccountDisabled(DomainError):
    status_code = status.HTTP_403_FORBIDDEN
    code = "account_disabled"
    default_detail = "This account is disabled."


class ApiKeyLimitReached(DomainError):
    code = "api_key_limit_reached"
    default_detail = "You have as many API keys as allowed; revoke one first."


class InvalidApiKey(DomainError):
    status_code = status.HTTP_401_UNAUTHORIZED
    code = "invalid_api_key"
    # The same words whatever is wrong: an answer must not tell a guesser which keys once existed.
    default_detail = "The API key is not valid: unknown, revoked or malformed."
