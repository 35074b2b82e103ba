import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import cast

from allauth.account.models import EmailAddress
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.models import SocialAccount, SocialLogin
from django.conf import settings
from django.contrib.auth.models import update_last_login
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.authentication import SESSION_CLAIM, cached_user, forget_cached_user
from accounts.exceptions import (
    AccountDisabled,
    ApiKeyLimitReached,
    EmailInUse,
    InvalidApiKey,
    InvalidRefreshToken,
    ProviderEmailMissing,
)
from accounts.models import API_KEY_PREFIX, ApiKey, EndedSession, User
from accounts.signals import user_erasing, user_exporting
from accounts.social import social_login_verify


def user_create(
    *,
    email: str,
    name: str = "",
    provider: str = "",
    provider_uid: str | None = None,
    password: str | None = None,
    is_staff: bool = False,
    is_superuser: bool = False,
) -> User:
    """Create a user; in the same transaction the apps listening to `user_created` add what every
    user has (its wallet)."""
    return User.objects.create_user(
        email,
        password,
        name=name,
        provider=provider,
        provider_uid=provider_uid,
        is_staff=is_staff,
        is_superuser=is_superuser,
    )


def user_lock(*, user: User) -> User:
    """Lock the user's row until the transaction ends, and return it as it now is: for what must
    happen one at a time per user (creations counted against a per-user limit, the erasure)."""
    return User.objects.select_for_update().get(pk=user.pk)


def user_issue_tokens(*, user: User) -> dict[str, str]:
    """A new JWT pair: a new session, whose id every token refreshed from it keeps."""
    refresh = RefreshToken.for_user(user)
    refresh[SESSION_CLAIM] = str(uuid.uuid4())  # copied into its access tokens and kept by rotation
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def user_logout(*, user: User, refresh: str) -> None:
    """End the session of the caller's refresh token: the token is blacklisted (no more refreshes)
    and every access token issued in that session is refused from now on (see authentication)."""
    try:
        token = RefreshToken(refresh)  # type: ignore[arg-type]  # the encoded token; simplejwt's own hint says Token
    except TokenError as exc:
        raise InvalidRefreshToken() from exc
    if str(token.get(api_settings.USER_ID_CLAIM)) != str(user.pk):
        raise InvalidRefreshToken()
    now = timezone.now()
    with transaction.atomic():
        token.blacklist()
        if session_id := token.get(SESSION_CLAIM):
            EndedSession.objects.get_or_create(
                session_id=session_id,
                defaults={"user": user, "expires_at": now + api_settings.ACCESS_TOKEN_LIFETIME},
            )
        EndedSession.objects.filter(user=user, expires_at__lte=now).delete()  # no token of theirs is valid
        transaction.on_commit(partial(forget_cached_user, user_id=user.pk))


def user_erase(*, user: User) -> None:
    """Delete the account: its personal data and files go, its ledger stays.

    In one transaction, under the user's row lock: the apps above erase their part (`user_erasing`:
    transcripts, audio files, webhooks; a running job refuses it all), the social accounts that
    link it to Google or Facebook are deleted, every API key is revoked (the names the user gave
    them erased), every refresh token is blacklisted, and the row is kept, anonymised and
    inactive, because the wallet and its ledger name it. Access tokens and API keys are refused
    from the commit on (an inactive user cannot authenticate). Signing in again with the same
    provider account makes a new, empty account.
    """
    with transaction.atomic():
        user = user_lock(user=user)
        user_erasing.send(sender=User, user=user)
        SocialAccount.objects.filter(user=user).delete()
        EmailAddress.objects.filter(user=user).delete()
        _api_keys_revoke_for_erasure(user=user)
        BlacklistedToken.objects.bulk_create(
            [BlacklistedToken(token=token) for token in OutstandingToken.objects.filter(user=user)],
            ignore_conflicts=True,  # those already blacklisted (a logout) stay as they are
        )
        user.email = f"deleted-{user.pk.hex}@deleted.invalid"
        user.name = ""
        user.provider_uid = None
        user.is_active = False
        user.set_unusable_password()
        user.save(update_fields=["email", "name", "provider_uid", "is_active", "password"])


def user_export(*, user: User) -> dict[str, object]:
    """Everything the service holds of the user, as JSON-ready data: the profile, and a section from
    each app that keeps something of the user (`user_exporting`)."""
    sections: dict[str, object] = {}
    for _, response in user_exporting.send(sender=User, user=user):
        name, data = cast(tuple[str, object], response)  # each receiver answers (name, data)
        sections[name] = data
    api_keys = [
        {
            "id": str(api_key.pk),
            "name": api_key.name,
            "prefix": api_key.prefix,
            "created_at": api_key.created_at.isoformat(),
            "last_used_at": api_key.last_used_at.isoformat() if api_key.last_used_at else None,
            "revoked_at": api_key.revoked_at.isoformat() if api_key.revoked_at else None,
        }
        for api_key in ApiKey.objects.filter(user=user).order_by("created_at")
    ]
    profile = {
        "id": str(user.pk),
        "email": user.email,
        "name": user.name,
        "provider": user.provider,
        "created_at": user.created_at.isoformat(),
        "last_login": user.last_login.isoformat() if user.last_login else None,
    }
    return {"exported_at": timezone.now().isoformat(), "profile": profile, "api_keys": api_keys, **sections}


@dataclass(frozen=True)
class SocialSignIn:
    user: User
    created: bool
    access: str
    refresh: str


def user_social_login(
    *, request: HttpRequest, provider: str, id_token: str = "", access_token: str = ""
) -> SocialSignIn:
    """Sign in with a Google or Facebook token: find the user, or create it with its wallet, and
    issue our JWT pair. No session is opened.

    The provider is called before any transaction opens. A user is found by the provider account,
    else by an email the provider says is verified (the provider account is then linked to it).
    Raises the errors of `social_login_verify`, `ProviderEmailMissing` (a new user without an
    email), `EmailInUse` (the email belongs to a user this sign-in cannot be linked to) and
    `AccountDisabled`.
    """
    sociallogin = social_login_verify(request=request, provider=provider, id_token=id_token, access_token=access_token)
    sociallogin.lookup()
    created = not sociallogin.is_existing
    if created and not sociallogin.user.email:
        raise ProviderEmailMissing()
    if not created and not sociallogin.user.is_active:
        raise AccountDisabled()
    try:
        with transaction.atomic():
            if created:
                get_adapter(request).save_user(request, sociallogin)
            elif sociallogin.account.pk is None:  # found by verified email: link the account for next time
                sociallogin.connect(request, sociallogin.user)
        user = sociallogin.user
    except (IntegrityError, ValidationError):
        # `user_create` found the email taken, or the database refused a duplicate.
        user = _user_created_concurrently(sociallogin)
        if user is None:
            if User.objects.filter(email__iexact=sociallogin.user.email).exists():
                raise EmailInUse() from None
            raise
        created = False
    update_last_login(User, user)
    return SocialSignIn(user=user, created=created, **user_issue_tokens(user=user))


def _user_created_concurrently(sociallogin: SocialLogin) -> User | None:
    """The user of this provider account, if another sign-in with it committed meanwhile."""
    account = (
        SocialAccount.objects.select_related("user")
        .filter(provider=sociallogin.account.provider, uid=sociallogin.account.uid)
        .first()
    )
    return account.user if account else None


# --- API keys ----------------------------------------------------------------------------------
#
# A key is `sk-` and 43 characters of `secrets.token_urlsafe(32)`: 32 bytes from the OS's CSPRNG,
# 256 bits, base64url without padding. The database keeps only its SHA-256:
# - no slow or salted hash is needed: those protect low-entropy secrets (passwords) from guessing,
#   and nobody can guess or invert 256 random bits, with or without the hash;
# - no pepper (an HMAC with a server secret) either: it would add nothing against a dump for such
#   keys, and would bind every key to a secret that could then never be rotated without breaking
#   every customer's integration at once (with SECRET_KEY as the pepper, rotating SECRET_KEY after
#   a leak would do exactly that, silently);
# - an unsalted hash is what lets a request find its key by one unique-index look-up.
#
# Keys are checked against the database on every request, never from the cache: the cache may
# lose a write (django-redis here ignores errors, and Redis may be away when a key is revoked), so
# any "this key is valid" kept there could outlive its revocation. What a cache entry would spare
# is one read through a unique index (joined with the user), and any safe use of it would still
# have to ask the database whether the key is revoked: the same read.

API_KEY_RANDOM_BYTES = 32  # 256 bits
API_KEY_PATTERN = re.compile(re.escape(API_KEY_PREFIX) + r"[A-Za-z0-9_-]{43}")  # 43 = 32 bytes in base64url
API_KEY_SHOWN_PREFIX_LENGTH = len(API_KEY_PREFIX) + 8
MAX_API_KEYS_PER_USER = 10
# `last_used_at` is written at most this often per key, not on every request.
API_KEY_LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class IssuedApiKey:
    api_key: ApiKey
    key: str  # the secret itself: show it to its owner now, it is kept nowhere


def api_key_hash(*, key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def api_key_create(*, user: User, name: str) -> IssuedApiKey:
    """A new key for `user`, returned with its secret (shown once; only its hash is stored).

    Under the user's row lock, so that concurrent requests cannot together pass the limit. Raises
    `ApiKeyLimitReached` (MAX_API_KEYS_PER_USER live keys already) and `AccountDisabled` (the
    account was deleted meanwhile)."""
    key = API_KEY_PREFIX + secrets.token_urlsafe(API_KEY_RANDOM_BYTES)
    with transaction.atomic():
        if not user_lock(user=user).is_active:
            raise AccountDisabled()
        if ApiKey.objects.filter(user=user, revoked_at__isnull=True).count() >= MAX_API_KEYS_PER_USER:
            raise ApiKeyLimitReached(f"At most {MAX_API_KEYS_PER_USER} API keys; revoke one first.")
        api_key = ApiKey.objects.create(
            user=user, name=name, prefix=key[:API_KEY_SHOWN_PREFIX_LENGTH], key_hash=api_key_hash(key=key)
        )
    return IssuedApiKey(api_key=api_key, key=key)


def api_key_revoke(*, api_key: ApiKey) -> bool:
    """Refuse the key from now on, on every node. False when it was already revoked."""
    _api_key_cache_refuse(key_hashes=[api_key.key_hash])
    return bool(ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now()))


# Live keys are cached by their hash in the shared cache, so every node sees a revocation's mark
# (for `settings.API_KEY_CACHE_SECONDS`); the user they sign in as comes from the user cache, which
# any change to the user drops.
_API_KEY_REFUSED = "refused"


def _api_key_cache_key(key_hash: str) -> str:
    return f"api-key:{key_hash}"


def _api_key_cache_refuse(*, key_hashes: list[str]) -> None:
    """Mark the keys refused in the cache now, and again once the revocation commits. A request
    only ever `add`s a key it read as live, which cannot replace the mark: one that read the row
    before the commit can neither keep the key cached nor cache it afresh."""

    def refuse() -> None:
        cache.set_many(
            {_api_key_cache_key(key_hash): _API_KEY_REFUSED for key_hash in key_hashes}, settings.API_KEY_CACHE_SECONDS
        )

    refuse()
    transaction.on_commit(refuse)


def api_key_authenticate(*, key: str) -> ApiKey:
    """The live key that `key` is, with its user (`api_key.user`): for every way in that takes API
    keys (the DRF authentication class, and any other protocol's).

    From the cache, or one indexed read by the key's hash; the user from the user cache, as for
    JWTs. When the key is read from the database, and only if the last record is over a minute old,
    a conditional update of `last_used_at` records its use. Raises `InvalidApiKey` for a malformed,
    unknown or revoked key, or one whose user is inactive (a deleted account), all alike."""
    if not API_KEY_PATTERN.fullmatch(key):
        raise InvalidApiKey()
    # Looked up by hash: the time the look-up takes can only tell about the hash, not the key.
    key_hash = api_key_hash(key=key)
    api_key: ApiKey | str | None = cache.get(_api_key_cache_key(key_hash))
    if isinstance(api_key, str):  # refused
        raise InvalidApiKey()
    if api_key is None:
        api_key = ApiKey.objects.filter(key_hash=key_hash, revoked_at__isnull=True).first()
        if api_key is None:
            raise InvalidApiKey()
        _api_key_mark_used(api_key=api_key)
        if settings.API_KEY_CACHE_SECONDS:
            cache.add(_api_key_cache_key(key_hash), api_key, settings.API_KEY_CACHE_SECONDS)
    try:
        api_key.user, _ = cached_user(
            user_id=api_key.user_id, load=partial(User.objects.get, pk=api_key.user_id, is_active=True)
        )
    except User.DoesNotExist:
        raise InvalidApiKey() from None
    return api_key


def _api_key_mark_used(*, api_key: ApiKey) -> None:
    """Record the use unless one was recorded in the last minute. The row just read says whether to
    try (so most requests write nothing); the update's own condition makes concurrent requests and
    nodes write it once."""
    now = timezone.now()
    stale_before = now - API_KEY_LAST_USED_RESOLUTION
    if api_key.last_used_at is not None and api_key.last_used_at >= stale_before:
        return
    ApiKey.objects.filter(Q(last_used_at__isnull=True) | Q(last_used_at__lt=stale_before), pk=api_key.pk).update(
        last_used_at=now
    )
    api_key.last_used_at = now


def _api_keys_revoke_for_erasure(*, user: User) -> None:
    """Every key of a deleted account refused from its commit on; the names its user gave them
    erased. The rows stay, as records of what could sign in and when."""
    live = ApiKey.objects.filter(user=user, revoked_at__isnull=True)
    _api_key_cache_refuse(key_hashes=list(live.values_list("key_hash", flat=True)))
    live.update(revoked_at=timezone.now())
    ApiKey.objects.filter(user=user).update(name="")
