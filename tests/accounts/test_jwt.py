import base64
import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import User
from accounts.services import user_issue_tokens

USER_URL = "/api/auth/user/"


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_access_token_reads_current_user(api_client, user):
    response = api_client.get(USER_URL)

    assert response.status_code == 200
    assert response.json() == {
        "id": str(user.id),
        "email": user.email,
        "name": user.name,
        "provider": "google",
        "created_at": user.created_at.isoformat().replace("+00:00", "Z"),
    }


def test_missing_token_is_401_with_error_shape(anon_client, db):
    response = anon_client.get(USER_URL)

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response.json()["detail"]


def test_expired_token_is_401(anon_client, user):
    token = AccessToken.for_user(user)
    token.set_exp(lifetime=-timedelta(seconds=1))
    anon_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    response = anon_client.get(USER_URL)

    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


def test_tampered_token_is_401(anon_client, user, other_user):
    header, payload, signature = str(AccessToken.for_user(user)).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["user_id"] = str(other_user.id)
    anon_client.credentials(HTTP_AUTHORIZATION=f"Bearer {header}.{_b64(claims)}.{signature}")

    response = anon_client.get(USER_URL)

    assert response.status_code == 401


def test_alg_none_token_is_401(anon_client, user):
    claims = AccessToken.for_user(user).payload
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    anon_client.credentials(HTTP_AUTHORIZATION=f"Bearer {unsigned}")

    response = anon_client.get(USER_URL)

    assert response.status_code == 401


def test_refresh_rotates_and_old_refresh_is_blacklisted(anon_client, user):
    refresh = user_issue_tokens(user=user)["refresh"]

    first = anon_client.post("/api/auth/token/refresh/", {"refresh": refresh}, format="json")
    again = anon_client.post("/api/auth/token/refresh/", {"refresh": refresh}, format="json")

    assert first.status_code == 200
    assert set(first.json()) == {"access", "refresh"}
    assert first.json()["refresh"] != refresh
    assert again.status_code == 401
    assert again.json()["code"] == "token_not_valid"


def test_logout_blacklists_refresh_token(api_client, anon_client, user):
    refresh = user_issue_tokens(user=user)["refresh"]

    response = api_client.post("/api/auth/logout/", {"refresh": refresh}, format="json")
    refreshed = anon_client.post("/api/auth/token/refresh/", {"refresh": refresh}, format="json")

    assert response.status_code == 204
    assert refreshed.status_code == 401


def test_logout_refuses_another_users_refresh_token(api_client, other_user, anon_client):
    refresh = user_issue_tokens(user=other_user)["refresh"]

    response = api_client.post("/api/auth/logout/", {"refresh": refresh}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "token_not_valid"
    assert anon_client.post("/api/auth/token/refresh/", {"refresh": refresh}, format="json").status_code == 200


def test_logout_with_garbage_refresh_is_400(api_client):
    response = api_client.post("/api/auth/logout/", {"refresh": "not-a-token"}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "token_not_valid"


def test_issue_token_creates_user_with_wallet_and_token_works(anon_client, db, capsys):
    call_command("issue_token", "New.Person@Example.com", "--create")
    out = capsys.readouterr().out
    access = out.split("access: ")[1].split()[0]
    anon_client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")

    response = anon_client.get(USER_URL)

    assert response.status_code == 200
    assert response.json()["email"] == "new.person@example.com"
    user = User.objects.get(email="new.person@example.com")
    assert not user.has_usable_password()
    assert user.wallet.demo_minutes_remaining == 10


def test_issue_token_without_create_refuses_unknown_email(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("issue_token", "nobody@example.com")


def test_signed_in_user_is_read_from_the_cache_after_the_first_request(api_client, django_assert_num_queries):
    api_client.get(USER_URL)

    with django_assert_num_queries(0):
        assert api_client.get(USER_URL).status_code == 200


def test_deactivating_a_user_takes_effect_at_once_despite_the_cache(api_client, user):
    assert api_client.get(USER_URL).status_code == 200

    user.is_active = False
    user.save(update_fields=["is_active"])

    response = api_client.get(USER_URL)
    assert response.status_code == 401
    assert response.json()["code"] == "user_inactive"
