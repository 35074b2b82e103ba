"""A revoked API key is refused at once, on every node, though live keys are answered from the
cache: a revocation marks the key refused in the shared cache (set, never deleted, and a look-up
only ever adds). Where the cache lost that mark, `API_KEY_CACHE_SECONDS` bounds how long a node can
still take the key; while the cache is down, every look-up reads the database."""

import time
import uuid

import pytest
import redis
import requests
from django.core.cache import cache
from django.test import override_settings

from accounts.services import api_key_create, api_key_hash, api_key_revoke, user_issue_tokens
from tests.conftest import client_for, key_client
from tests.openai_api.live import LiveServer
from tests.production.faults import CuttableProxy

# A Redis database no other test or script uses, and a key prefix of this test run's own.
REDIS_URL = "redis://127.0.0.1:6379/10"


@pytest.mark.django_db
@override_settings(API_KEY_CACHE_SECONDS=5)
def test_a_key_in_use_is_refused_as_soon_as_it_is_revoked_though_deletions_are_lost(user, monkeypatch):
    # Deletions lost, as django-redis loses them when Redis is away (it ignores the error).
    for name in ("delete", "delete_many", "clear"):
        monkeypatch.setattr(cache, name, lambda *args, **kwargs: None)
    issued = api_key_create(user=user, name="leaked")
    client = key_client(issued.key)
    for _ in range(3):  # the key and its user are cached now
        assert client.get("/api/wallet/details/").status_code == 200

    assert client_for(user).delete(f"/api/api-keys/{issued.api_key.pk}/").status_code == 204
    refused = client.get("/api/wallet/details/")

    assert (refused.status_code, refused.json()["code"]) == (401, "invalid_api_key")


@pytest.mark.django_db
@override_settings(API_KEY_CACHE_SECONDS=1)
def test_a_revocation_whose_mark_the_cache_lost_holds_within_api_key_cache_seconds(user, monkeypatch):
    issued = api_key_create(user=user, name="leaked")
    client = key_client(issued.key)
    assert client.get("/api/wallet/details/").status_code == 200  # cached
    monkeypatch.setattr(cache, "set_many", lambda *args, **kwargs: None)  # the refusal mark is lost

    api_key_revoke(api_key=issued.api_key)
    at_once = client.get("/api/wallet/details/").status_code
    time.sleep(1.1)
    later = client.get("/api/wallet/details/")

    assert at_once == 200  # the cached copy: what the setting bounds
    assert (later.status_code, later.json()["code"]) == (401, "invalid_api_key")


@pytest.mark.django_db
@override_settings(API_KEY_CACHE_SECONDS=2)
def test_keys_are_checked_and_revoked_while_redis_is_down(user, django_capture_on_commit_callbacks):
    proxy = CuttableProxy("127.0.0.1", 6379)
    redis_cache = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{proxy.port}/10",
            "KEY_PREFIX": f"test-api-keys-{uuid.uuid4().hex[:8]}",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.3, "SOCKET_TIMEOUT": 0.3, "IGNORE_EXCEPTIONS": True},
        }
    }
    kept, revoked = api_key_create(user=user, name="kept"), api_key_create(user=user, name="revoked")
    try:
        with override_settings(CACHES=redis_cache):
            warm = [key_client(issued.key).get("/api/wallet/details/").status_code for issued in (kept, revoked)]
            cached_at = time.monotonic()
            proxy.cut()
            with django_capture_on_commit_callbacks(execute=True):
                api_key_revoke(api_key=revoked.api_key)  # the mark cannot reach Redis
            down = [key_client(issued.key).get("/api/wallet/details/").status_code for issued in (kept, revoked)]
            proxy.restore()
            time.sleep(max(0.0, cached_at + 2.1 - time.monotonic()))  # what Redis kept from before has expired
            back = [key_client(issued.key).get("/api/wallet/details/").status_code for issued in (kept, revoked)]
            cache.clear()
    finally:
        proxy.close()

    assert warm == [200, 200]
    assert down == [200, 401]  # from the database
    assert back == [200, 401]


@pytest.fixture
def two_nodes(tmp_path, django_db_blocker):
    """Two gunicorn servers sharing the test's database and one Redis, as two web nodes do."""
    with django_db_blocker.unblock():
        nodes = [LiveServer(tmp_path / f"node-{name}.log", gunicorn=True, REDIS_URL=REDIS_URL) for name in "ab"]
    yield nodes
    for node in nodes:
        node.stop()


@pytest.mark.django_db(transaction=True)  # the nodes read what this test committed
def test_a_key_revoked_on_one_gunicorn_node_is_refused_at_once_by_another_that_just_used_it(user, two_nodes):
    node_a, node_b = two_nodes
    issued = api_key_create(user=user, name="leaked")
    by_key = {"Authorization": f"Bearer {issued.key}"}
    by_jwt = {"Authorization": f"Bearer {user_issue_tokens(user=user)['access']}"}
    shared = redis.Redis.from_url(REDIS_URL)

    before = [requests.get(f"{node_b.url}/api/wallet/details/", headers=by_key, timeout=30).status_code for _ in "123"]
    cached = [key.decode() for key in shared.scan_iter(f"*{api_key_hash(key=issued.key)}")]
    revoked = requests.delete(f"{node_a.url}/api/api-keys/{issued.api_key.pk}/", headers=by_jwt, timeout=30)
    after = requests.get(f"{node_b.url}/api/wallet/details/", headers=by_key, timeout=30)
    signed_in = requests.get(f"{node_b.url}/api/auth/user/", headers=by_jwt, timeout=30)

    assert before == [200] * 3
    assert len(cached) == 1  # node b answered from the shared cache
    assert revoked.status_code == 204
    assert (after.status_code, after.json()["code"]) == (401, "invalid_api_key")
    assert signed_in.status_code == 200  # the user's other ways in are untouched
