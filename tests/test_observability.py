import json
import logging

import pytest
from django.test import Client, override_settings

REDIS_DOWN = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2, "IGNORE_EXCEPTIONS": True},
    }
}
REDIS_UP = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/14",
    }
}


def test_every_response_carries_a_request_id():
    first = Client().get("/health/")
    second = Client().get("/health/")

    assert len(first["X-Request-ID"]) == 32
    assert first["X-Request-ID"] != second["X-Request-ID"]


def test_a_plain_incoming_request_id_is_kept_and_a_forged_one_replaced():
    kept = Client().get("/health/", HTTP_X_REQUEST_ID="edge-1234")
    replaced = Client().get("/health/", HTTP_X_REQUEST_ID="bad id\nINFO forged line")

    assert kept["X-Request-ID"] == "edge-1234"
    assert replaced["X-Request-ID"] != "bad id\nINFO forged line"


def test_one_structured_line_per_request_with_user_and_status(api_client, user, caplog):
    from pythonjsonlogger.json import JsonFormatter

    with caplog.at_level(logging.INFO, logger="request"):
        response = api_client.get("/api/auth/user/", HTTP_X_REQUEST_ID="req-42")

    [record] = [r for r in caplog.records if r.name == "request"]
    line = json.loads(JsonFormatter(["levelname", "message"]).format(record))
    assert response.status_code == 200
    assert line["status"] == 200
    assert line["user_id"] == str(user.pk)
    assert line["path"] == "/api/auth/user/"
    assert line["method"] == "GET"
    assert line["duration_ms"] >= 0
    assert record.request_id == "req-42"


@pytest.mark.django_db
@override_settings(CACHES=REDIS_UP, CELERY_TASK_ALWAYS_EAGER=False, CELERY_BROKER_URL="redis://127.0.0.1:6379/15")
def test_ready_checks_database_cache_and_broker():
    response = Client().get("/ready/")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "cache": "ok", "broker": "ok"}}


@pytest.mark.django_db
@override_settings(CACHES=REDIS_DOWN)
def test_ready_is_503_when_the_cache_is_down():
    response = Client().get("/ready/")

    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "cache": "unavailable"}


@pytest.mark.django_db
@override_settings(CELERY_TASK_ALWAYS_EAGER=False, CELERY_BROKER_URL="redis://127.0.0.1:1/0")
def test_ready_is_503_when_the_broker_is_down():
    response = Client().get("/ready/")

    assert response.status_code == 503
    assert response.json()["checks"]["broker"] == "unavailable"


METRICS_TOKEN = "metrics-token-" + "m" * 32


@override_settings(METRICS_TOKEN=METRICS_TOKEN)
def test_metrics_answer_the_configured_bearer_token():
    Client().get("/health/")

    response = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {METRICS_TOKEN}")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert b"django_http_requests_total_by_method_total" in response.content


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer ",
        "Bearer wrong-token",
        f"Bearer {METRICS_TOKEN[:-1]}",  # all but its last character
        f"Bearer {METRICS_TOKEN}x",
        f"Basic {METRICS_TOKEN}",
        METRICS_TOKEN,  # no scheme
    ],
)
@override_settings(METRICS_TOKEN=METRICS_TOKEN, METRICS_OPEN_WITHOUT_TOKEN=True)
def test_metrics_without_the_right_token_look_like_a_path_that_does_not_exist(authorization):
    headers = {} if authorization is None else {"HTTP_AUTHORIZATION": authorization}

    refused = Client().get("/metrics", **headers)
    nowhere = Client().get("/no-such-page", **headers)

    assert refused.status_code == nowhere.status_code == 404
    assert refused.content == nowhere.content
    assert b"django_http" not in refused.content


def test_metrics_are_not_found_when_no_token_is_configured():
    response = Client().get("/metrics")

    assert response.status_code == 404


@override_settings(METRICS_OPEN_WITHOUT_TOKEN=True)
def test_metrics_are_open_without_a_token_only_where_the_settings_open_them():
    response = Client().get("/metrics")

    assert response.status_code == 200
    assert b"django_http_requests_total_by_method_total" in response.content


def test_runservers_own_line_for_an_http_request_is_dropped_and_its_websocket_lines_kept(caplog):
    """Under `make run` our request line is the one line a request logs; daphne's WebSocket lines stay,
    and nothing of `django.*` is printed a second time by a handler of Django's own."""
    server = logging.getLogger("django.channels.server")
    http = {"method": "GET", "path": "/health/", "status": 200, "time_taken": 0.01, "client": "127.0.0.1:1"}
    with caplog.at_level(logging.INFO):
        server.info("HTTP %(method)s %(path)s %(status)s [%(time_taken).2f, %(client)s]", http)
        server.warning("HTTP %(method)s %(path)s %(status)s [%(time_taken).2f, %(client)s]", {**http, "status": 404})
        server.info("WebSocket CONNECT %(path)s [%(client)s]", {"path": "/v1/realtime", "client": "127.0.0.1:1"})

    lines = [record.getMessage() for record in caplog.records if record.name == "django.channels.server"]
    assert lines == ["WebSocket CONNECT /v1/realtime [127.0.0.1:1]"]
    assert logging.getLogger("django").handlers == []
