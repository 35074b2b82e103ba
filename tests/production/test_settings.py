"""Production defaults an operator meets first, read from a fresh process as a deploy would."""

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings

PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "SECRET_KEY": "production-settings-test-" + "k" * 40,
    "ALLOWED_HOSTS": "api.example.com",
    "DATABASE_URL": "mysql://app@127.0.0.1:3306/app",
    "REDIS_URL": "redis://127.0.0.1:6379/1",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
}


def production_setting(name: str, **env: str):
    code = f"import json, django; django.setup(); from django.conf import settings; print(json.dumps(settings.{name}))"
    clean = {key: value for key, value in os.environ.items() if key not in PRODUCTION_ENV and key not in env}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env={**clean, **PRODUCTION_ENV, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


def metrics_answers(settings_module: str, *authorizations: str, **env: str) -> list[tuple[int, str]]:
    """`GET /metrics` through Django's test client in a fresh process on `settings_module`, once with
    each `Authorization` header given ("": none)."""
    code = (
        "import json, django; django.setup(); from django.test import Client; "
        f"answers = [Client().get('/metrics', HTTP_HOST='api.example.com', "
        f"**({{'HTTP_AUTHORIZATION': a}} if a else {{}})) for a in {list(authorizations)!r}]; "
        "print(json.dumps([(a.status_code, a.content.decode()) for a in answers]))"
    )
    base = PRODUCTION_ENV if settings_module == "config.settings.production" else {"ALLOWED_HOSTS": "api.example.com"}
    unset = {*PRODUCTION_ENV, *env, "METRICS_TOKEN", "PROMETHEUS_MULTIPROC_DIR"}
    clean = {key: value for key, value in os.environ.items() if key not in unset}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env={**clean, **base, "DJANGO_SETTINGS_MODULE": settings_module, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return [tuple(answer) for answer in json.loads(result.stdout)]


METRICS_TOKEN = "production-metrics-" + "t" * 32
NOT_FOUND = (404, '{"detail": "Not found.", "code": "not_found"}')


def test_production_metrics_are_not_found_without_a_configured_token():
    assert metrics_answers("config.settings.production", "", "Bearer ") == [NOT_FOUND, NOT_FOUND]


def test_production_metrics_answer_only_the_configured_token():
    right, wrong, missing = metrics_answers(
        "config.settings.production", f"Bearer {METRICS_TOKEN}", "Bearer guessed", "", METRICS_TOKEN=METRICS_TOKEN
    )

    assert right[0] == 200 and "django_http_requests_total_by_method_total" in right[1]
    assert wrong == missing == NOT_FOUND


def test_production_metrics_behind_the_token_add_up_every_process(tmp_path):
    shared = {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "METRICS_TOKEN": METRICS_TOKEN}
    counted = (
        "import django; django.setup(); from config.metrics import transcriptions_total; "
        "transcriptions_total.labels(status='completed', engine='openai').inc(3)"
    )
    subprocess.run(
        [sys.executable, "-c", counted],
        cwd=settings.BASE_DIR,
        env={**os.environ, **PRODUCTION_ENV, **shared},
        check=True,
    )

    [(status, body)] = metrics_answers("config.settings.production", f"Bearer {METRICS_TOKEN}", **shared)

    assert status == 200
    assert 'transcriptions_total{engine="openai",status="completed"} 3.0' in body  # the other process's count


def test_the_embedded_default_serves_metrics_without_a_token_until_one_is_set():
    [(open_status, body)] = metrics_answers("config.settings.local", "")
    refused, allowed = metrics_answers(
        "config.settings.local", "", f"Bearer {METRICS_TOKEN}", METRICS_TOKEN=METRICS_TOKEN
    )

    assert open_status == 200 and "django_http_requests_total_by_method_total" in body
    assert (refused[0], allowed[0]) == (404, 200)


@pytest.mark.parametrize(
    ("configured", "expected"),
    [
        ({}, ["HTTP_X_FORWARDED_PROTO", "https"]),
        ({"SECURE_PROXY_SSL_HEADER": "X-Forwarded-Scheme"}, ["HTTP_X_FORWARDED_SCHEME", "https"]),
        ({"SECURE_PROXY_SSL_HEADER": ""}, None),
    ],
)
def test_the_proxy_ssl_header_is_the_one_the_operator_names(configured, expected):
    assert production_setting("SECURE_PROXY_SSL_HEADER", **configured) == expected


def test_maria_db_silences_only_the_allauth_conditional_constraint_warning():
    assert production_setting("SILENCED_SYSTEM_CHECKS") == ["models.W036"]


def test_the_admin_sign_in_locks_after_five_failures_for_an_hour_unless_told_otherwise():
    assert production_setting("AXES_FAILURE_LIMIT") == 5
    assert production_setting("AXES_COOLOFF_TIME.total_seconds()") == 3600
    assert production_setting("AXES_COOLOFF_TIME.total_seconds()", AXES_COOLOFF_MINUTES="15") == 900


def test_gunicorn_binds_to_loopback_unless_told_otherwise():
    code = "import runpy; print(runpy.run_path('config/gunicorn.py')['bind'])"
    env = {key: value for key, value in os.environ.items() if key != "GUNICORN_BIND"}

    default = subprocess.run([sys.executable, "-c", code], cwd=settings.BASE_DIR, env=env, capture_output=True)
    chosen = subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env={**env, "GUNICORN_BIND": "0.0.0.0:9000"},
        capture_output=True,
    )

    assert default.stdout.decode().strip() == "127.0.0.1:8000"
    assert chosen.stdout.decode().strip() == "0.0.0.0:9000"


def test_the_metrics_directory_is_created_when_the_process_starts(tmp_path):
    metrics_dir = tmp_path / "not-yet" / "metrics"

    production_setting("DEBUG", PROMETHEUS_MULTIPROC_DIR=str(metrics_dir))

    assert metrics_dir.is_dir()
    assert list(metrics_dir.glob("*.db"))  # prometheus_client wrote this process's values there


def test_env_example_copied_as_it_is_gives_a_working_local_setup(tmp_path):
    example = {}
    for line in (settings.BASE_DIR / ".env.example").read_text().splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            example[key] = value
    clean = {key: value for key, value in os.environ.items() if key not in example}
    env = {**clean, **example, "DJANGO_SETTINGS_MODULE": "config.settings.local"}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'db.sqlite3'}"  # the example's file, somewhere disposable
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.DEBUG, settings.CELERY_TASK_ALWAYS_EAGER, settings.TRANSCRIPTION_ENGINE, "
        "settings.CORS_ALLOWED_ORIGINS, settings.CSRF_TRUSTED_ORIGINS)"
    )

    env["PYTHONPATH"] = str(settings.BASE_DIR)
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()

    manage = [sys.executable, str(settings.BASE_DIR / "manage.py"), "check"]
    check = subprocess.run(manage, cwd=elsewhere, env=env, capture_output=True)
    seen = subprocess.run([sys.executable, "-c", code], cwd=elsewhere, env=env, capture_output=True, text=True)

    assert check.returncode == 0, check.stderr
    assert list(elsewhere.iterdir()) == []  # an empty metrics directory is "unset", not "write here"
    assert seen.stdout.split() == ["True", "True", "local", "['http://localhost:5173']", "['http://localhost:5173']"]


def test_the_embedded_default_lets_webhooks_reach_this_machine():
    local = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.WEBHOOK_ALLOW_PRIVATE_URLS)"],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.local"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert local.stdout.strip() == "True"
