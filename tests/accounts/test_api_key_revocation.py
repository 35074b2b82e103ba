"""A revoked API key is refused at once, on every node, though live keys are answered from the
cache: a revocation marks the key refused in the shared cache (set, never deleted, and a look-up
only ever adds). Where the cache lost that mark, `API_KEY_CACHE_SECONDS` bounds how long a node can
still take the key; while the cache is down, every look-up reads the database."""

import json
import os
import subprocess
import sys
import time
import uuid

import pytest
import redis
from django.conf import settings
from django.core.cache import cache
from django.test import override_settings

from accounts.services import api_key_create, api_key_revoke, user_issue_tokens
from tests.conftest import client_for, key_client
from tests.production.faults import CuttableProxy
from tests.workers import database_url

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


class Node:
    """`tests.accounts.api_node` in a process of its own."""

    def __init__(self, key_prefix: str) -> None:
        environment = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": database_url(),
            "API_NODE_REDIS_URL": REDIS_URL,
            "API_NODE_KEY_PREFIX": key_prefix,
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.accounts.api_node"],
            cwd=settings.BASE_DIR,
            env=environment,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None and json.loads(self.process.stdout.readline()) == {"ready": True}

    def get(self, path: str, authorization: str) -> tuple[int, str | None]:
        assert self.process.stdin is not None and self.process.stdout is not None
        request = {"method": "get", "path": path, "authorization": authorization}
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        answer = json.loads(self.process.stdout.readline())
        return answer["status"], answer["code"]

    def stop(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=30)


@pytest.mark.django_db(transaction=True)  # the other node reads what this one committed
def test_a_key_revoked_on_one_node_is_refused_at_once_by_another_that_just_used_it(user):
    prefix = f"test-api-keys-{uuid.uuid4().hex[:8]}"
    shared = redis.Redis.from_url(REDIS_URL)
    issued = api_key_create(user=user, name="leaked")
    jwt = f"Bearer {user_issue_tokens(user=user)['access']}"
    redis_cache = {"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": REDIS_URL, "KEY_PREFIX": prefix}}
    other_node = Node(prefix)
    try:
        with override_settings(CACHES=redis_cache, API_KEY_CACHE_SECONDS=5):
            before = [other_node.get(path, f"Bearer {issued.key}") for path in ("/api/wallet/details/",) * 3]
            signed_in = other_node.get("/api/auth/user/", jwt)  # the user is cached in Redis by the other node
            shared_entries = [key.decode() for key in shared.scan_iter(f"{prefix}:*")]
            revoked = client_for(user).delete(f"/api/api-keys/{issued.api_key.pk}/")  # on this node
            after = other_node.get("/api/wallet/details/", f"Bearer {issued.key}")
            still_signed_in = other_node.get("/api/auth/user/", jwt)
    finally:
        other_node.stop()
        for key in shared.scan_iter(f"{prefix}:*"):
            shared.delete(key)

    assert before == [(200, None)] * 3
    assert signed_in == (200, None)
    assert any("auth-user" in entry for entry in shared_entries), shared_entries
    assert any("api-key" in entry for entry in shared_entries), shared_entries
    assert revoked.status_code == 204
    assert after == (401, "invalid_api_key")
    assert still_signed_in == (200, None)
