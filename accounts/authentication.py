"""JWT authentication that keeps the signed-in user in the cache.

Every authenticated request would otherwise read the user row. Users change rarely, and every
change to one (admin edits, deactivation) drops the cached copy. A copy can outlive a save only
when a request read the user just before it and stored it just after, or the cache was down
during the save; `USER_CACHE_SECONDS` bounds both.
Wallet details have their own versioned cache (`wallet/cache.py`).
"""

from django.core.cache import cache
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.settings import api_settings

USER_CACHE_SECONDS = 60


def _cache_key(user_id) -> str:
    return f"auth-user:{user_id}"


class CachedUserJWTAuthentication(JWTAuthentication):
    def get_user(self, validated_token):
        key = _cache_key(validated_token.get(api_settings.USER_ID_CLAIM))
        user = cache.get(key)
        if user is None:
            user = super().get_user(validated_token)  # raises for unknown or inactive users
            cache.set(key, user, USER_CACHE_SECONDS)
        return user


def forget_cached_user(sender, instance, **kwargs) -> None:
    cache.delete(_cache_key(instance.pk))
