"""JWT authentication that keeps the signed-in user in the cache, and refuses ended sessions.

Every authenticated request would otherwise read the user row. Users change rarely, and every
change to one (admin edits, deactivation, a logout) drops the cached copy, when it is saved and
again when it commits, so a request that read the old row in between cannot keep it. A copy
outlives a change only while the cache is down; `USER_CACHE_SECONDS` bounds that.
Wallet details have their own versioned cache (`wallet/cache.py`).
"""

from collections.abc import Callable
from functools import partial
from typing import cast

from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from rest_framework.exceptions import AuthenticationFailed, NotAuthenticated
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.settings import api_settings

from accounts.models import API_KEY_PREFIX, EndedSession, User

USER_CACHE_SECONDS = 60
# The claim naming a sign-in session: set when a JWT pair is issued, kept by every refresh.
SESSION_CLAIM = "sid"


def _cache_key(user_id) -> str:
    return f"auth-user:{user_id}"


class CachedUserJWTAuthentication(JWTAuthentication):
    def get_raw_token(self, header: bytes) -> bytes | None:
        raw_token = super().get_raw_token(header)
        if raw_token is not None and raw_token.startswith(API_KEY_PREFIX.encode()):
            return None  # an API key: `accounts.api_key_authentication` reads it
        return raw_token

    def get_user(self, validated_token):
        user, ended_sessions = cached_user(
            user_id=validated_token.get(api_settings.USER_ID_CLAIM),
            load=partial(self._load_user, validated_token),
        )
        if validated_token.get(SESSION_CLAIM) in ended_sessions:
            raise AuthenticationFailed("This session has ended (signed out). Sign in again.", code="session_ended")
        return user

    def _load_user(self, validated_token) -> User:
        return cast(User, super().get_user(validated_token))  # raises for unknown or inactive users


def cached_user(*, user_id, load: Callable[[], User]) -> tuple[User, frozenset[str]]:
    """The active user `user_id` and the ids of its ended sessions, from the cache, or from `load`
    (which raises for an unknown or inactive user: only active users are ever cached)."""
    key = _cache_key(user_id)
    cached = cache.get(key)
    if cached is None:
        user = load()
        ended = EndedSession.objects.filter(user_id=user.pk, expires_at__gt=timezone.now())
        cached = (user, frozenset(str(session_id) for session_id in ended.values_list("session_id", flat=True)))
        cache.set(key, cached, USER_CACHE_SECONDS)
    return cached


def forget_cached_user(*, user_id) -> None:
    cache.delete(_cache_key(user_id))


def forget_saved_user(sender, instance, **kwargs) -> None:
    """Receiver of the user model's save and delete signals: now, and again once the change commits,
    so a request that read the old row meanwhile cannot keep it cached (a deactivated user is
    refused from the commit on)."""
    forget_cached_user(user_id=instance.pk)
    transaction.on_commit(partial(forget_cached_user, user_id=instance.pk))


def signed_in_user(request: HttpRequest) -> User:
    """The request's user, for views and admin pages that only a signed-in user reaches."""
    user = request.user
    if not isinstance(user, User):
        raise NotAuthenticated()
    return user
