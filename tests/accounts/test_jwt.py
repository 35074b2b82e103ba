import base64
import json
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import EndedSession, User
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


def bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def test_logout_ends_the_session_its_access_tokens_are_refused_at_once(user, django_capture_on_commit_callbacks):
    session = user_issue_tokens(user=user)
    other_device = user_issue_tokens(user=user)
    client = bearer(session["access"])
    assert client.get("/api/auth/user/").status_code == 200  # the user is now cached

    with django_capture_on_commit_callbacks(execute=True):  # the cached user is dropped after commit
        logout = client.post("/api/auth/logout/", {"refresh": session["refresh"]})
    after = client.get("/api/auth/user/")

    assert logout.status_code == 204
    assert after.status_code == 401
    assert after.json() == {"detail": "This session has ended (signed out). Sign in again.", "code": "session_ended"}
    assert bearer(other_device["access"]).get("/api/auth/user/").status_code == 200  # other sign-ins go on


def test_logout_after_refreshes_ends_the_access_tokens_issued_before_them_too(
    user, anon_client, django_capture_on_commit_callbacks
):
    first = user_issue_tokens(user=user)
    assert bearer(first["access"]).get("/api/auth/user/").status_code == 200
    refreshed = anon_client.post("/api/auth/token/refresh/", {"refresh": first["refresh"]}).json()

    with django_capture_on_commit_callbacks(execute=True):
        bearer(refreshed["access"]).post("/api/auth/logout/", {"refresh": refreshed["refresh"]})

    assert bearer(first["access"]).get("/api/auth/user/").status_code == 401
    assert bearer(refreshed["access"]).get("/api/auth/user/").status_code == 401
    assert anon_client.post("/api/auth/token/refresh/", {"refresh": refreshed["refresh"]}).status_code == 401


def test_an_ended_session_is_kept_only_while_its_access_tokens_could_be_valid(user, settings):
    session = user_issue_tokens(user=user)
    bearer(session["access"]).post("/api/auth/logout/", {"refresh": session["refresh"]})
    ended = EndedSession.objects.get(user=user)
    lifetime = settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"]
    assert timezone.now() + lifetime - timedelta(minutes=1) < ended.expires_at <= timezone.now() + lifetime

    EndedSession.objects.filter(pk=ended.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    later = user_issue_tokens(user=user)
    bearer(later["access"]).post("/api/auth/logout/", {"refresh": later["refresh"]})

    assert list(EndedSession.objects.filter(user=user).values_list("session_id", flat=True)) != [ended.pk]
    assert EndedSession.objects.filter(user=user).count() == 1  # the expired one was pruned


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


def test_a_user_cached_by_another_request_before_the_deactivation_commits_is_dropped_at_commit(
    api_client, user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        user.is_active = False
        user.save(update_fields=["is_active"])
        # Another request, reading the committed row (still active), caches it meanwhile.
        still_active = User.objects.get(pk=user.pk)
        still_active.is_active = True
        cache.set(f"auth-user:{user.pk}", (still_active, frozenset()), 60)

    response = api_client.get(USER_URL)

    assert response.status_code == 401
    assert response.json()["code"] == "user_inactive"
