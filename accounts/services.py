import uuid
from dataclasses import dataclass
from functools import partial
from typing import cast

from allauth.account.models import EmailAddress
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.models import SocialAccount, SocialLogin
from django.contrib.auth.models import update_last_login
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.authentication import SESSION_CLAIM, forget_cached_user
from accounts.exceptions import AccountDisabled, EmailInUse, InvalidRefreshToken, ProviderEmailMissing
from accounts.models import EndedSession, User
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
    link it to Google or Facebook are deleted, every refresh token is blacklisted, and the row is
    kept, anonymised and inactive, because the wallet and its ledger name it. Access tokens are
    refused from the commit on (an inactive user cannot authenticate). Signing in again with the
    same provider account makes a new, empty account.
    """
    with transaction.atomic():
        user = user_lock(user=user)
        user_erasing.send(sender=User, user=user)
        SocialAccount.objects.filter(user=user).delete()
        EmailAddress.objects.filter(user=user).delete()
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
    profile = {
        "id": str(user.pk),
        "email": user.email,
        "name": user.name,
        "provider": user.provider,
        "created_at": user.created_at.isoformat(),
        "last_login": user.last_login.isoformat() if user.last_login else None,
    }
    return {"exported_at": timezone.now().isoformat(), "profile": profile, **sections}


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
