"""The staff roles, as Django groups kept in step with this code after every `migrate`.

- support: sees every page of the admin, can retry failed transcriptions and revoke API keys (a
  customer's leaked key: no data is lost, its owner makes another); moves no money. Also sees the
  admin's sign-in attempts (to tell a locked-out colleague why and until when), but cannot lift a
  lock: deleting attempts undoes the defence against whoever is guessing, so that is for superusers.
- finance: sees every page and can credit, adjust and refund (each a ledger line).

A superuser can do everything; give other staff one of these groups rather than single permissions.
"""

from typing import Any

from django.apps import AppConfig, apps
from django.contrib.auth.models import Group, Permission
from django.db.models import Q

# The apps whose pages staff look at (Django's own and the libraries' are left to superusers).
APPS = ("accounts", "audio", "transcriptions", "payments", "wallet", "webhooks", "socialaccount")
ROLES: dict[str, list[str]] = {
    "support": [
        "transcriptions.change_transcription",  # retrying a failed job (a new one, paid by the user)
        "accounts.change_apikey",  # revoking a customer's leaked key
        "axes.view_accessattempt",
        "axes.view_accessfailurelog",
        "axes.view_accesslog",
    ],
    "finance": ["wallet.add_transaction"],  # credits, adjustments and refunds each write a ledger line
}


def ensure_roles(sender: AppConfig, **kwargs: Any) -> None:
    """Receives `post_migrate`: each role's group with exactly its permissions (view all, plus its
    own). Acts once, for the last app with models (the only ones `migrate` signals), when every
    app's permissions exist."""
    if sender is not [config for config in apps.get_app_configs() if config.models_module is not None][-1]:
        return
    viewing = Permission.objects.filter(content_type__app_label__in=APPS, codename__startswith="view_")
    for name, extra in ROLES.items():
        own = Q()
        for permission in extra:
            app_label, codename = permission.split(".")
            own |= Q(content_type__app_label=app_label, codename=codename)
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(viewing | Permission.objects.filter(own))
