"""django-allauth adapters: sign-in apps from settings, and every new social user made by `user_create`."""

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.utils import user_field
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialApp, SocialLogin
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest

from accounts.models import User
from accounts.services import user_create


class AccountAdapter(DefaultAccountAdapter):
    def unstash_verified_email(self, request: HttpRequest) -> None:
        # Nothing is ever stashed here (there is no email-verification flow), and the default
        # writes to the session: every sign-up would store a session and send a cookie no one uses.
        return None


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def list_apps(self, request: HttpRequest | None, provider=None, client_id=None) -> list[SocialApp]:
        """The apps are built from `GOOGLE_CLIENT_ID` and `FACEBOOK_APP_ID`/`FACEBOOK_APP_SECRET` on each
        call, so the environment is the one place they are set (no `SocialApp` rows are read)."""
        apps = []
        if settings.GOOGLE_CLIENT_ID:
            apps.append(SocialApp(provider="google", name="Google", client_id=settings.GOOGLE_CLIENT_ID))
        if settings.FACEBOOK_APP_ID and settings.FACEBOOK_APP_SECRET:
            apps.append(
                SocialApp(
                    provider="facebook",
                    name="Facebook",
                    client_id=settings.FACEBOOK_APP_ID,
                    secret=settings.FACEBOOK_APP_SECRET,
                )
            )
        return [app for app in apps if provider in (None, app.provider) and client_id in (None, app.client_id)]

    def populate_user(self, request: HttpRequest, sociallogin: SocialLogin, data: dict) -> User:
        user = super().populate_user(request, sociallogin, data)
        # Google gives given and family names, Facebook a full name too; ours is one field.
        full_name = data.get("name") or " ".join(filter(None, [data.get("first_name"), data.get("last_name")]))
        user_field(user, "name", full_name)  # truncated to the field's length
        return user

    def save_user(self, request: HttpRequest, sociallogin: SocialLogin, form=None) -> User:
        """Create the user through `user_create` (so it gets its wallet), then its `SocialAccount`
        and `EmailAddress` rows, all in one transaction."""
        draft = sociallogin.user
        with transaction.atomic():
            sociallogin.user = user_create(
                email=draft.email,
                name=draft.name,
                provider=sociallogin.account.provider,
                provider_uid=sociallogin.account.uid,
            )
            sociallogin.save(request)
        return sociallogin.user
