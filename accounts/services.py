from django.db import transaction
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.exceptions import InvalidRefreshToken
from accounts.models import User
from wallet.services import wallet_create


@transaction.atomic
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
    """Create a user and its wallet together: every user always has exactly one wallet."""
    user = User(
        email=User.objects.normalize_email(email).lower(),
        name=name,
        provider=provider,
        provider_uid=provider_uid,
        is_staff=is_staff,
        is_superuser=is_superuser,
    )
    user.set_password(password)  # None gives an unusable password
    user.full_clean(exclude=["password", "provider_uid"])
    user.save()
    wallet_create(user=user)
    return user


def user_issue_tokens(*, user: User) -> dict[str, str]:
    refresh = RefreshToken.for_user(user)
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def user_logout(*, user: User, refresh: str) -> None:
    """Blacklist the caller's refresh token, so it can no longer be refreshed."""
    try:
        token = RefreshToken(refresh)
    except TokenError as exc:
        raise InvalidRefreshToken() from exc
    if str(token.get(api_settings.USER_ID_CLAIM)) != str(user.pk):
        raise InvalidRefreshToken()
    token.blacklist()
