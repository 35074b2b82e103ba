import pytest
from django.test import override_settings
from rest_framework_simplejwt.views import TokenRefreshView

from accounts.views import CurrentUserView
from config.throttling import AnonRateThrottle, UserRateThrottle
from tests.conftest import client_for

REDIS_CACHE = {"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": "redis://127.0.0.1:6379/12"}}


@pytest.fixture
def three_a_minute(monkeypatch):
    for view in (CurrentUserView, TokenRefreshView):
        monkeypatch.setattr(view, "throttle_classes", [UserRateThrottle, AnonRateThrottle])
    monkeypatch.setattr(UserRateThrottle, "rate", "3/min", raising=False)
    monkeypatch.setattr(AnonRateThrottle, "rate", "2/min", raising=False)


@pytest.mark.parametrize("caches", [None, REDIS_CACHE], ids=["locmem", "redis"])
def test_fourth_request_in_a_minute_is_429_with_retry_after(three_a_minute, user, other_user, caches):
    with override_settings(**({"CACHES": caches} if caches else {})):
        client = client_for(user)
        statuses = [client.get("/api/auth/user/").status_code for _ in range(4)]
        refused = client.get("/api/auth/user/")
        someone_else = client_for(other_user).get("/api/auth/user/")

    assert statuses == [200, 200, 200, 429]
    assert refused.json()["code"] == "throttled"
    assert 0 < int(refused["Retry-After"]) <= 60
    assert someone_else.status_code == 200  # counted per user


def test_anonymous_requests_are_counted_per_ip(three_a_minute, anon_client, db):
    def refresh(**extra):
        return anon_client.post("/api/auth/token/refresh/", {"refresh": "bad"}, format="json", **extra).status_code

    statuses = [refresh() for _ in range(3)]
    from_elsewhere = refresh(REMOTE_ADDR="10.0.0.9")

    assert statuses == [401, 401, 429]
    assert from_elsewhere == 401
