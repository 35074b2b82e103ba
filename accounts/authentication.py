"""JWT authentication that keeps the signed-in user in the cache, and refuses ended sessions.

Every authenticated request would otherwise read the user row. Users change rarely, and every
change to one (admin edits, deactivation, a logout) drops the cached copy. A copy can outlive a
save only when a request read the user just before it and stored it just after, or the cache was
down during the save; `USER_CACHE_SECONDS` bounds both.
Wallet details have their own versioned cache (`wallet/cache.py`).
"""

from django.core.cache import cache
from django.utils import timezone
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.settings import api_settings

from accounts.models import EndedSession

USER_CACHE_SECONDS = 60
# The claim naming a sign-in session: set when a JWT pair is issued, kept by every refresh.
SESSION_CLAIM = "sid"


def _cache_key(user_id) -> str:
    return f"auth-user:{user_id}"


class CachedUserJWTAuthentication(JWTAuthentication):
    def get_user(self, validated_token):
        key = _cache_key(validated_token.get(api_settings.USER_ID_CLAIM))
        cached = cache.get(key)
        if cached is None:
            user = super().get_user(validated_token)  # raises for unknown or inactive users
            ended = EndedSession.objects.filter(user=user, expires_at__gt=timezone.now())
            cached = (user, frozenset(str(session_id) for session_id in ended.values_list("session_id", flat=True)))
            cache.set(key, cached, USER_CACHE_SECONDS)
        user, ended_sessions = cached
        if validated_token.get(SESSION_CLAIM) in ended_sessions:
            raise AuthenticationFailed("This session has ended (signed out). Sign in again.", code="session_ended")
        return user


def forget_cached_user(*, user_id) -> None:
    cache.delete(_cache_key(user_id))


def forget_saved_user(sender, instance, **kwargs) -> None:
    """Receiver of the user model's save and delete signals."""
    forget_cached_user(user_id=instance.pk)
