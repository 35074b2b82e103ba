import pytest
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from accounts.services import user_issue_tokens
from tests.factories import UserFactory


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
