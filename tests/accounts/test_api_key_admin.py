"""API keys in the admin: prefix, name, owner and dates, never the secret or its hash; revoked
through a confirmed action (superusers and support), which the admin log keeps with its reason."""

import re

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.test import Client

from accounts.models import ApiKey, User
from accounts.services import api_key_create
from tests.conftest import key_client

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/accounts/apikey/"


@pytest.fixture
def issued(user):
    return api_key_create(user=user, name="Build server")


def staff(*, group: str | None = None) -> Client:
    member = User.objects.create_user(f"{group or 'admin'}@example.com", "pw-staff-1", is_staff=True)
    if group:
        member.groups.add(Group.objects.get(name=group))
    else:
        member.is_superuser = True
        member.save()
    client = Client()
    client.force_login(member)
    return client


def revoke(client: Client, api_key: ApiKey, reason: str = "Leaked in a public repository"):
    return client.post(
        CHANGELIST,
        {"action": "revoke", "_selected_action": [str(api_key.pk)], "apply": "1", "reason": reason},
        follow=True,
    )


def test_the_list_and_the_page_show_prefix_name_owner_and_dates_never_the_secret(issued, user):
    admin = staff()
    key_client(issued.key).get("/api/auth/user/")  # last used now

    listed = admin.get(CHANGELIST).content.decode()
    page = admin.get(f"{CHANGELIST}{issued.api_key.pk}/change/").content.decode()
    searched = admin.get(CHANGELIST, {"q": issued.api_key.prefix}).content.decode()

    for html in (listed, page):
        assert issued.api_key.prefix in html and "Build server" in html and user.email in html
        assert issued.key not in html and issued.key[11:] not in html
        assert ApiKey.objects.get().key_hash not in html
    assert "Build server" in searched


def test_revoking_refuses_the_key_at_once_and_logs_the_reason(issued):
    admin = staff()
    assert key_client(issued.key).get("/api/wallet/details/").status_code == 200

    asked = admin.post(CHANGELIST, {"action": "revoke", "_selected_action": [str(issued.api_key.pk)]})
    response = revoke(admin, issued.api_key)
    again = revoke(admin, issued.api_key, reason="Twice")

    assert 'name="reason"' in asked.content.decode()
    assert ApiKey.objects.get().revoked_at is not None
    assert key_client(issued.key).get("/api/wallet/details/").json()["code"] == "invalid_api_key"
    [message] = get_messages(response.wsgi_request)
    assert str(message) == f"API key {issued.api_key}: revoked: refused from now on."
    [message_again] = get_messages(again.wsgi_request)
    assert str(message_again) == f"API key {issued.api_key}: was already revoked."
    changes = [entry.get_change_message() for entry in LogEntry.objects.order_by("action_time")]
    assert changes[0] == "Revoke: revoked: refused from now on. Reason: Leaked in a public repository"


def actions_on(client: Client) -> set[str]:
    page = client.get(CHANGELIST)
    assert page.status_code == 200
    return set(re.findall(r'<option value="(\w+)"', page.content.decode())) - {""}


def test_support_sees_and_revokes_keys_finance_only_sees_them(issued):
    support, finance = staff(group="support"), staff(group="finance")

    assert actions_on(support) == {"revoke"}
    assert actions_on(finance) == set()
    revoke(support, issued.api_key)
    assert ApiKey.objects.get().revoked_at is not None


def test_keys_are_neither_added_nor_deleted_in_the_admin(issued):
    """Keys are made by their owners, who alone see the secret; a revoked key stays as a record."""
    admin = staff()

    assert admin.get(f"{CHANGELIST}add/").status_code == 403
    assert admin.get(f"{CHANGELIST}{issued.api_key.pk}/delete/").status_code == 403
    assert "delete_selected" not in actions_on(admin)
