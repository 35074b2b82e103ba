from types import SimpleNamespace

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from accounts.services import user_issue_tokens
from tests.factories import UserFactory
from tests.s3 import ACCESS_KEY, REGION, SECRET_KEY, SeaweedFS


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache: no cached users, throttle counts or provider keys."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _throttle_clock_mid_window(monkeypatch):
    """The throttles count per fixed window (a minute, an hour): a test's requests must not fall on
    both sides of a window's end, which would reset the count mid-test. Their clock stands still,
    half a minute into a window."""
    monkeypatch.setattr(SimpleRateThrottle, "timer", staticmethod(lambda: 86_400.0 * 20_000 + 30))


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def other_user(db):
    return UserFactory()


@pytest.fixture
def anon_client() -> APIClient:
    return APIClient()


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {user_issue_tokens(user=user)['access']}")
    return client


@pytest.fixture
def api_client(user) -> APIClient:
    return client_for(user)


@pytest.fixture
def other_client(other_user) -> APIClient:
    return client_for(other_user)


@pytest.fixture(scope="session")
def seaweedfs(tmp_path_factory):
    """A real S3 server (SeaweedFS) for this test process, started when first asked for."""
    server = SeaweedFS(tmp_path_factory.mktemp("seaweedfs"))
    yield server
    server.stop()


@pytest.fixture
def s3_storage(settings, seaweedfs):
    """Audio stored in a fresh bucket of the S3 server, as a deployment with AWS_STORAGE_BUCKET_NAME has it."""
    bucket = seaweedfs.new_bucket()
    settings.AWS_STORAGE_BUCKET_NAME = bucket
    settings.AWS_S3_ENDPOINT_URL = seaweedfs.endpoint_url
    settings.AWS_S3_ACCESS_KEY_ID = ACCESS_KEY
    settings.AWS_S3_SECRET_ACCESS_KEY = SECRET_KEY
    settings.AWS_S3_REGION_NAME = REGION
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "storages.backends.s3.S3Storage"}}  # last: resets
    return SimpleNamespace(server=seaweedfs, bucket=bucket, keys=lambda: seaweedfs.keys(bucket))
