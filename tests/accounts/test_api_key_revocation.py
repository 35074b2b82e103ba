"""A revoked API key is refused at once, on every node, whatever the cache does: no look-up of a key
is answered from the cache, so a cache that lost the revocation, is down, or is shared by nodes
that used the key a moment before cannot let it through."""

import json
import os
import subprocess
import sys
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


@pytest.fixture
def forgetful_cache(monkeypatch):
    """The local cache, losing every deletion: as Redis does when it is away at the moment of a
    revocation (django-redis ignores the error), and is back for the next request."""
    for name in ("delete", "delete_many", "clear"):
        monkeypatch.setattr(cache, name, lambda *args, **kwargs: None)


@pytest.mark.django_db
def test_a_revoked_key_is_refused_though_the_cache_lost_every_invalidation(user, forgetful_cache):
    issued = api_key_create(user=user, name="leaked")
    client = key_client(issued.key)
    for _ in range(3):  # whatever a request might cache about the key is cached now
        assert client.get("/api/wallet/details/").status_code == 200

    assert client_for(user).delete(f"/api/api-keys/{issued.api_key.pk}/").status_code == 204
    refused = client.get("/api/wallet/details/")

    assert (refused.status_code, refused.json()["code"]) == (401, "invalid_api_key")


@pytest.mark.django_db
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
            proxy.cut()
            with django_capture_on_commit_callbacks(execute=True):
                api_key_revoke(api_key=revoked.api_key)
            down = [key_client(issued.key).get("/api/wallet/details/").status_code for issued in (kept, revoked)]
            proxy.restore()
            back = [key_client(issued.key).get("/api/wallet/details/").status_code for issued in (kept, revoked)]
            cache.clear()
    finally:
        proxy.close()

    assert warm == [200, 200]
    assert down == [200, 401]
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
        with override_settings(CACHES=redis_cache):
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
    assert revoked.status_code == 204
    assert after == (401, "invalid_api_key")
    assert still_signed_in == (200, None)
