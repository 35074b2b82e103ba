"""`manage.py issue_api_key EMAIL [--name NAME] [--create]`: prints a new key of the user, which works."""

import io

import pytest
from django.core.management import CommandError, call_command

from accounts.models import ApiKey, User
from accounts.services import MAX_API_KEYS_PER_USER, api_key_create
from tests.conftest import key_client

pytestmark = pytest.mark.django_db


def test_issue_api_key_prints_a_key_that_works(user):
    out = io.StringIO()

    call_command("issue_api_key", user.email, "--name", "deploy script", stdout=out)

    key = out.getvalue().strip()
    assert ApiKey.objects.get(user=user).name == "deploy script"
    assert key_client(key).get("/api/auth/user/").json()["email"] == user.email


def test_issue_api_key_creates_the_user_when_asked():
    out = io.StringIO()

    call_command("issue_api_key", "New@Example.com", "--create", stdout=out)

    user = User.objects.get(email="new@example.com")
    assert key_client(out.getvalue().strip()).get("/api/wallet/details/").status_code == 200
    assert ApiKey.objects.get(user=user).name == "manage.py issue_api_key"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["nobody@example.com"], "pass --create"),
        (["{email}", "--name", ""], "1 to 100 characters"),
        (["{email}", "--name", "x" * 101], "1 to 100 characters"),
    ],
)
def test_issue_api_key_refuses_what_it_cannot_do(user, arguments, message):
    with pytest.raises(CommandError, match=message):
        call_command("issue_api_key", *[argument.format(email=user.email) for argument in arguments])

    assert not ApiKey.objects.exists()


def test_issue_api_key_refuses_an_inactive_user_and_the_eleventh_key(user, other_user):
    User.objects.filter(pk=other_user.pk).update(is_active=False)
    for n in range(MAX_API_KEYS_PER_USER):
        api_key_create(user=user, name=f"key {n}")

    with pytest.raises(CommandError, match="inactive"):
        call_command("issue_api_key", other_user.email)
    with pytest.raises(CommandError, match="At most 10 API keys"):
        call_command("issue_api_key", user.email)
