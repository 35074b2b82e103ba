"""One-use secrets for browsers, which cannot set headers on a WebSocket: `POST
/v1/realtime/client_secrets` (with a JWT or an API key) gives an `ek_…` value that opens one
session within REALTIME_CLIENT_SECRET_SECONDS, passed as the subprotocol
`openai-insecure-api-key.<value>`.

Kept in the cache (Redis in production, so any node redeems what another issued) under the
value's hash, never the value itself. A handshake redeems a secret by deleting it: of two
handshakes with the same secret only the one whose delete removed it gets in.
"""

import hashlib
import secrets
import time

from django.conf import settings
from django.core.cache import cache

from accounts.models import User
from config.exceptions import ServiceUnavailable

SECRET_PREFIX = "ek_"  # noqa: S105  (a prefix, not a secret)


def _cache_key(value: str) -> str:
    return "realtime-secret:" + hashlib.sha256(value.encode()).hexdigest()


def client_secret_issue(*, user: User, seconds: int) -> tuple[str, int]:
    """A new secret of `user`, and when it expires (Unix seconds). Raises `ServiceUnavailable` when
    the cache cannot keep it: a secret no handshake could redeem is not handed out."""
    value = SECRET_PREFIX + secrets.token_urlsafe(24)
    # `add` says whether it stored the key (a new random key always is), where `set` says nothing
    # on every backend, and the cache ignores its connection errors.
    if not cache.add(_cache_key(value), str(user.pk), timeout=seconds):
        raise ServiceUnavailable("Live sessions cannot be opened from a browser just now. Please try again shortly.")
    return value, int(time.time()) + seconds


def client_secret_redeem(*, value: str) -> User | None:
    """The user of a live, unused secret, which is used up; None for anything else."""
    if not value.startswith(SECRET_PREFIX) or len(value) > 100:
        return None
    key = _cache_key(value)
    user_id = cache.get(key)
    if user_id is None or not cache.delete(key):
        return None
    return User.objects.filter(pk=user_id, is_active=True).first()


def client_secret_seconds() -> int:
    return int(settings.REALTIME_CLIENT_SECRET_SECONDS)
