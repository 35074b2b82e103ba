"""API keys: made with a JWT (`POST /api/api-keys/`), shown once and stored as a hash, listed,
revoked at once; `Authorization: Bearer sk-…` then works as its owner everywhere but on key
management and the account's export and deletion (403)."""

import base64
import hashlib
import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import ApiKey, User
from accounts.services import MAX_API_KEYS_PER_USER, api_key_create
from tests.conftest import client_for, key_client
from tests.factories import TranscriptionFactory, UserFactory
from tests.wallet.test_races import run_together

pytestmark = pytest.mark.django_db

URL = "/api/api-keys/"
DELETE_ACCOUNT_URL = "/api/auth/user/?confirmation=delete-my-account"


def new_key(user: User, name: str = "CI server") -> str:
    return api_key_create(user=user, name=name).key


def test_a_new_key_is_shown_once_and_only_its_hash_is_stored(api_client, user):
    response = api_client.post(URL, {"name": "CI server"}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "name", "prefix", "key", "created_at", "last_used_at"}
    key = body["key"]
    assert (body["name"], body["prefix"], body["last_used_at"]) == ("CI server", key[:11], None)
    row = ApiKey.objects.get(pk=body["id"])
    assert row.user == user
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()
    stored = " ".join(str(getattr(row, field.attname)) for field in ApiKey._meta.concrete_fields)
    assert key not in stored and key[11:] not in stored  # no part beyond the shown prefix
    listed = api_client.get(URL)
    assert key not in listed.content.decode() and "key" not in listed.json()["results"][0]
    assert key not in api_client.get("/api/auth/user/export/").content.decode()


def test_a_key_is_sk_and_256_random_bits():
    user = UserFactory()
    keys = [new_key(user, f"key {n}") for n in range(MAX_API_KEYS_PER_USER)]

    for key in keys:
        assert re.fullmatch(r"sk-[A-Za-z0-9_-]{43}", key)
        assert len(base64.urlsafe_b64decode(key[3:] + "=")) == 32  # secrets.token_urlsafe(32): 256 bits
    assert len(set(keys)) == len(keys)


@pytest.mark.parametrize("name", ["", "   ", "x" * 101, None, ["a list"], 0, True])
def test_a_name_must_have_1_to_100_characters(api_client, name):
    response = api_client.post(URL, {"name": name}, format="json")

    assert (response.status_code, response.json()["code"]) == (400, "invalid")
    assert "name" in response.json()["errors"]
    assert not ApiKey.objects.exists()


def test_a_name_of_100_characters_is_kept_whole(api_client):
    response = api_client.post(URL, {"name": "é" * 100}, format="json")

    assert response.status_code == 201
    assert ApiKey.objects.get().name == "é" * 100


def test_the_list_shows_live_keys_newest_first_paginated_never_the_secret(api_client, user, other_user):
    first, second, _ = (api_key_create(user=user, name=name) for name in ("one", "two", "three"))
    new_key(other_user)
    api_client.delete(f"{URL}{second.api_key.pk}/")

    body = api_client.get(URL).json()
    page = api_client.get(URL, {"page_size": 1}).json()

    assert body["count"] == 2
    assert [key["name"] for key in body["results"]] == ["three", "one"]
    assert set(body["results"][0]) == {"id", "name", "prefix", "created_at", "last_used_at"}
    assert (page["count"], len(page["results"]), page["next"] is not None) == (2, 1, True)
    assert first.key not in api_client.get(URL).content.decode()


def test_the_eleventh_live_key_is_400_and_revoking_one_makes_room(api_client, user):
    keys = [api_client.post(URL, {"name": f"key {n}"}, format="json") for n in range(MAX_API_KEYS_PER_USER)]

    eleventh = api_client.post(URL, {"name": "one too many"}, format="json")
    api_client.delete(f"{URL}{keys[0].json()['id']}/")
    after_revoking = api_client.post(URL, {"name": "replacement"}, format="json")

    assert [response.status_code for response in keys] == [201] * MAX_API_KEYS_PER_USER
    assert (eleventh.status_code, eleventh.json()["code"]) == (400, "api_key_limit_reached")
    assert after_revoking.status_code == 201
    assert ApiKey.objects.filter(user=user, revoked_at__isnull=True).count() == MAX_API_KEYS_PER_USER


@pytest.mark.mysql
@pytest.mark.django_db(transaction=True)
def test_concurrent_creations_never_pass_the_limit(user):
    """On MariaDB the user's row lock makes the count and the insert one step; SQLite runs them in turn."""
    for n in range(MAX_API_KEYS_PER_USER - 3):
        new_key(user, f"key {n}")

    outcomes = run_together([lambda n=n: api_key_create(user=user, name=f"racing {n}") for n in range(12)])

    assert sum(not isinstance(outcome, Exception) for outcome in outcomes) == 3
    assert {getattr(o, "code", None) for o in outcomes if isinstance(o, Exception)} == {"api_key_limit_reached"}
    assert ApiKey.objects.filter(user=user).count() == MAX_API_KEYS_PER_USER


def test_revoking_another_users_key_is_404_and_it_keeps_working(other_client, user):
    issued = api_key_create(user=user, name="mine")

    response = other_client.delete(f"{URL}{issued.api_key.pk}/")

    assert (response.status_code, response.json()) == (404, {"detail": "API key not found.", "code": "not_found"})
    assert key_client(issued.key).get("/api/wallet/details/").status_code == 200


def test_revoking_twice_is_404_the_second_time(api_client, user):
    issued = api_key_create(user=user, name="mine")

    first = api_client.delete(f"{URL}{issued.api_key.pk}/")
    second = api_client.delete(f"{URL}{issued.api_key.pk}/")

    assert (first.status_code, second.status_code) == (204, 404)


def test_a_key_works_as_its_owner_on_the_wallet_and_transcriptions(user, other_user):
    key = new_key(user)
    mine = TranscriptionFactory(user=user, status="completed", text="Mine.")
    TranscriptionFactory(user=other_user, status="completed", text="Theirs.")
    client = key_client(key)

    wallet = client.get("/api/wallet/details/")
    jobs = client.get("/api/transcriptions/")
    me = client.get("/api/auth/user/")

    assert wallet.status_code == 200 and wallet.json()["demo_minutes_remaining"] == "10.00"
    assert jobs.status_code == 200 and [job["id"] for job in jobs.json()["results"]] == [str(mine.pk)]
    assert me.json()["id"] == str(user.pk)


def test_a_revoked_key_is_401_at_once(api_client, user):
    issued = api_key_create(user=user, name="leaked")
    client = key_client(issued.key)
    assert client.get("/api/wallet/details/").status_code == 200

    assert api_client.delete(f"{URL}{issued.api_key.pk}/").status_code == 204
    refused = client.get("/api/wallet/details/")

    assert refused.status_code == 401
    assert refused.json() == {
        "detail": "The API key is not valid: unknown, revoked or malformed.",
        "code": "invalid_api_key",
    }
    assert refused["WWW-Authenticate"] == 'Bearer realm="api"'


@pytest.mark.parametrize(
    "header",
    [
        "Bearer sk-",
        "Bearer sk-short",
        "Bearer sk-" + "A" * 43,  # well-formed, never issued
        "Bearer sk-" + "A" * 42 + "!",
        "Bearer sk-" + "A" * 44,
        "Bearer sk-" + "A" * 43 + " trailing",
        "Bearer sk-" + "é" * 43,
    ],
)
def test_unknown_or_malformed_keys_are_401_invalid_api_key(anon_client, user, header):
    new_key(user)
    anon_client.credentials(HTTP_AUTHORIZATION=header)

    response = anon_client.get("/api/wallet/details/")

    assert (response.status_code, response.json()["code"]) == (401, "invalid_api_key")


def test_other_bearer_tokens_are_still_jwts(anon_client, user):
    anon_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-key")
    forged = anon_client.get("/api/auth/user/")

    assert (forged.status_code, forged.json()["code"]) == (401, "token_not_valid")
    assert client_for(user).get("/api/auth/user/").status_code == 200


def test_a_key_of_a_deactivated_user_is_refused(user):
    key = new_key(user)
    user.is_active = False
    user.save()

    response = key_client(key).get("/api/auth/user/")

    assert (response.status_code, response.json()["code"]) == (401, "invalid_api_key")


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("post", URL),
        ("get", URL),
        ("delete", URL + "{id}/"),
        ("get", "/api/auth/user/export/"),
        ("delete", DELETE_ACCOUNT_URL),
    ],
)
def test_a_key_cannot_manage_keys_or_export_or_delete_the_account(user, method, url):
    issued = api_key_create(user=user, name="leaked")
    body = {"data": {"name": "more"}, "format": "json"} if method == "post" else {}

    response = getattr(key_client(issued.key), method)(url.format(id=issued.api_key.pk), **body)

    assert response.status_code == 403
    assert response.json() == {
        "detail": "An API key cannot do this: sign in (with a JWT) to manage API keys or to export or delete the "
        "account.",
        "code": "api_key_not_allowed",
    }
    assert list(ApiKey.objects.values_list("pk", "revoked_at")) == [(issued.api_key.pk, None)]
    user.refresh_from_db()
    assert user.is_active


@override_settings(API_KEY_CACHE_SECONDS=5)
def test_last_used_at_is_written_at_most_once_a_minute(user):
    issued = api_key_create(user=user, name="busy")
    client = key_client(issued.key)

    with CaptureQueriesContext(connection) as queries:
        for _ in range(5):
            assert client.get("/api/auth/user/").status_code == 200
    writes = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE") and "apikey" in q["sql"]]
    first_use = ApiKey.objects.get().last_used_at
    ApiKey.objects.update(last_used_at=first_use - timedelta(seconds=61))  # a minute goes by,
    cache.clear()  # and with it the cached key (API_KEY_CACHE_SECONDS)
    with CaptureQueriesContext(connection) as later:
        client.get("/api/auth/user/")
        client.get("/api/auth/user/")
    writes_later = [q["sql"] for q in later.captured_queries if q["sql"].startswith("UPDATE")]

    assert len(writes) == 1
    assert first_use is not None and timezone.now() - first_use < timedelta(seconds=5)
    assert len(writes_later) == 1
    assert ApiKey.objects.get().last_used_at > first_use
    listed = client_for(user).get(URL).json()["results"][0]["last_used_at"]
    assert listed is not None


@override_settings(API_KEY_CACHE_SECONDS=5)  # as with Redis; without it keys are never cached
def test_a_key_in_use_is_answered_from_the_cache(user, django_assert_num_queries):
    client = key_client(new_key(user))
    client.get("/api/auth/user/")  # the key, its user and the first use: read and written

    with django_assert_num_queries(0):
        assert client.get("/api/auth/user/").status_code == 200


def test_deleting_the_account_revokes_every_key_and_erases_their_names(user, django_capture_on_commit_callbacks):
    keys = [new_key(user, "Ada's laptop"), new_key(user, "CI")]
    revoked_before = api_key_create(user=user, name="old")
    client_for(user).delete(f"{URL}{revoked_before.api_key.pk}/")
    revoked_at = ApiKey.objects.get(pk=revoked_before.api_key.pk).revoked_at

    with django_capture_on_commit_callbacks(execute=True):
        assert client_for(user).delete(DELETE_ACCOUNT_URL).status_code == 204

    for key in keys:
        assert key_client(key).get("/api/wallet/details/").json()["code"] == "invalid_api_key"
    assert not ApiKey.objects.filter(user=user, revoked_at__isnull=True).exists()
    assert set(ApiKey.objects.filter(user=user).values_list("name", flat=True)) == {""}
    assert ApiKey.objects.get(pk=revoked_before.api_key.pk).revoked_at == revoked_at


def test_the_export_lists_every_key_without_secrets(user):
    live = api_key_create(user=user, name="CI")
    revoked = api_key_create(user=user, name="old")
    client = client_for(user)
    client.delete(f"{URL}{revoked.api_key.pk}/")
    key_client(live.key).get("/api/auth/user/")

    response = client.get("/api/auth/user/export/")

    exported = response.json()["api_keys"]
    assert [(key["id"], key["name"]) for key in exported] == [
        (str(live.api_key.pk), "CI"),
        (str(revoked.api_key.pk), "old"),
    ]
    assert set(exported[0]) == {"id", "name", "prefix", "created_at", "last_used_at", "revoked_at"}
    assert exported[0]["last_used_at"] is not None and exported[0]["revoked_at"] is None
    assert exported[1]["revoked_at"] is not None
    text = response.content.decode()
    for secret in (live.key, revoked.key, live.api_key.key_hash, revoked.api_key.key_hash):
        assert secret not in text


def test_without_a_shared_cache_a_key_is_read_every_time(user, django_assert_num_queries):
    client = key_client(new_key(user))
    client.get("/api/auth/user/")

    with django_assert_num_queries(1):  # the key's row; its user comes from the user cache
        assert client.get("/api/auth/user/").status_code == 200
