from axes.apps import AppConfig as AxesAppConfig
from django.apps import AppConfig
from django.db.models.signals import post_delete, post_migrate, post_save


class AccountsConfig(AppConfig):
    name = "accounts"
    default = True  # the config of "accounts"; this module holds axes' too
    verbose_name = "Users"  # allauth's own app is "Accounts" too

    def ready(self) -> None:
        from accounts import schema  # noqa: F401  (registers the OpenAPI extensions)
        from accounts.authentication import forget_saved_user
        from accounts.roles import ensure_roles

        # After the last app's migrations, when every permission exists.
        post_migrate.connect(ensure_roles, dispatch_uid="ensure_staff_roles")

        # Any save of a user (admin, deactivation, sign-in updates) drops its cached copy.
        post_save.connect(forget_saved_user, sender=self.get_model("User"), dispatch_uid="forget_cached_user")
        post_delete.connect(forget_saved_user, sender=self.get_model("User"), dispatch_uid="forget_cached_user_del")


class AxesConfig(AxesAppConfig):
    """django-axes (the admin's sign-in lockout, `accounts/lockout.py`), named for what its admin
    pages hold."""

    verbose_name = "Admin sign-in attempts"
