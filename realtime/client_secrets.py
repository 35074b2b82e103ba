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
from typing import Any, NamedTuple
from uuid import UUID

from django.conf import settings
from django.core.cache import cache

from accounts.models import User
from config.exceptions import ServiceUnavailable

SECRET_PREFIX = "ek_"  # noqa: S105  (a prefix, not a secret)


class Caller(NamedTuple):
    """Who opens a live session, and the API key it came with (directly, or through a secret that
    key asked for): a session ends when its key is revoked."""

    user: User
    api_key_id: UUID | None
    session: dict[str, Any] | None = None  # the settings asked for with the secret, applied at the start


def _cache_key(value: str) -> str:
    return "realtime-secret:" + hashlib.sha256(value.encode()).hexdigest()


def client_secret_issue(
    *, user: User, api_key_id: UUID | None, seconds: int, session: dict[str, Any] | None = None
) -> tuple[str, int]:
    """A new secret of `user` (asked for with the API key `api_key_id`, if with one), opening a
    session with the settings `session` (a `session.update`'s), and when it expires (Unix seconds).
    Raises `ServiceUnavailable` when the cache cannot keep it: a secret no handshake could redeem is
    not handed out."""
    value = SECRET_PREFIX + secrets.token_urlsafe(24)
    # `add` says whether it stored the key (a new random key always is), where `set` says nothing
    # on every backend, and the cache ignores its connection errors.
    issued = (str(user.pk), api_key_id and str(api_key_id), session)
    if not cache.add(_cache_key(value), issued, timeout=seconds):
        raise ServiceUnavailable("Live sessions cannot be opened from a browser just now. Please try again shortly.")
    return value, int(time.time()) + seconds


def client_secret_redeem(*, value: str) -> Caller | None:
    """Who a live, unused secret was issued to, and the secret is used up; None for anything else."""
    if not value.startswith(SECRET_PREFIX) or len(value) > 100:
        return None
    key = _cache_key(value)
    issued = cache.get(key)
    if issued is None or not cache.delete(key):
        return None
    # A secret issued by the release before this one (during a deploy) holds the user's id alone.
    user_id, api_key_id, session = (issued, None, None) if isinstance(issued, str) else issued
    user = User.objects.filter(pk=user_id, is_active=True).first()
    return Caller(user, api_key_id and UUID(api_key_id), session) if user is not None else None


def client_secret_seconds() -> int:
    return int(settings.REALTIME_CLIENT_SECRET_SECONDS)
