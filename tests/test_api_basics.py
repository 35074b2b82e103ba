import json
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import path
from openapi_spec_validator import validate
from rest_framework import serializers

from config import urls as project_urls
from config.exceptions import flatten_errors


def test_health_answers_without_database():
    response = Client().get("/health/")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_ready_checks_database():
    response = Client().get("/ready/")

    assert response.status_code == 200
    assert response.json()["checks"]["database"] == "ok"


def test_unknown_url_is_json_404():
    response = Client().get("/no/such/page/")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found"}


def test_a_request_for_an_unknown_host_is_a_json_400():
    response = Client(HTTP_HOST="attacker.example").get("/api/auth/user/")

    assert response.status_code == 400
    assert response.json() == {"detail": "Bad request.", "code": "bad_request"}


def _boom(request):
    raise RuntimeError("secret internals")


urlpatterns = [*project_urls.urlpatterns, path("boom/", _boom)]
handler500 = project_urls.handler500


@override_settings(ROOT_URLCONF=__name__)
def test_unexpected_error_is_500_without_a_trace():
    response = Client(raise_request_exception=False).get("/boom/")

    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error.", "code": "server_error"}
    assert b"secret internals" not in response.content


def test_openapi_schema_validates_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))

    assert "/api/auth/user/" in (tmp_path / "schema.yaml").read_text()


def test_the_served_schema_is_valid_openapi_to_an_independent_validator(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    validate(json.loads(schema.content))  # raises on the first error


MULTIPART_BODY = "--x\r\nContent-Disposition: form-data; name=audio_file\r\n\r\n1\r\n--x--"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "body", "content_type"),
    [
        ("/api/wallet/create_order/", "amount=10.00", "application/x-www-form-urlencoded"),
        ("/api/transcriptions/", MULTIPART_BODY, "multipart/form-data; boundary=x"),
        ("/api/auth/token/refresh/", "refresh=abc", "text/plain"),
    ],
)
def test_a_json_endpoint_refuses_other_bodies_with_415(api_client, path, body, content_type):
    response = api_client.generic("POST", path, body, content_type=content_type)

    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


@pytest.mark.django_db
def test_the_upload_endpoint_refuses_json_with_415(api_client):
    response = api_client.post("/api/audio/", {"file": "not a file"}, format="json")

    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


def test_the_schema_declares_json_bodies_as_json_only_and_uploads_as_multipart_only(tmp_path):
    call_command("spectacular", "--format", "openapi-json", "--file", str(tmp_path / "schema.json"))
    schema = json.loads((tmp_path / "schema.json").read_text())

    bodies = {
        (path, method): sorted(operation["requestBody"]["content"])
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if "requestBody" in operation
    }

    assert bodies.pop(("/api/audio/", "post")) == ["multipart/form-data"]
    assert bodies.pop(("/v1/audio/transcriptions", "post")) == ["multipart/form-data"]  # as OpenAI's
    assert bodies.pop(("/v1/audio/translations", "post")) == ["multipart/form-data"]
    assert bodies
    assert set(map(tuple, bodies.values())) == {("application/json",)}


@pytest.mark.parametrize("debug", [False, True])
def test_an_unknown_api_url_is_a_json_404_in_every_mode(settings, debug):
    settings.DEBUG = debug

    response = Client().get("/api/no/such/thing/")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found"}


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [False, True])
def test_a_post_without_the_trailing_slash_is_a_json_404_naming_the_url(api_client, settings, debug):
    settings.DEBUG = debug

    response = api_client.post("/api/transcriptions", {"audio_file": "x"})

    assert response.status_code == 404
    assert response.json() == {
        "detail": "Not found. API URLs end with a slash: /api/transcriptions/",
        "code": "not_found",
    }


def test_local_settings_let_an_spa_dev_server_call_the_api_when_debug_is_on():
    code = "import django; django.setup(); from django.conf import settings; print(settings.CORS_ALLOWED_ORIGINS)"
    env = {key: value for key, value in os.environ.items() if key not in ("CORS_ALLOWED_ORIGINS", "DEBUG")}

    def origins(**extra: str) -> str:
        environment = {**env, "DJANGO_SETTINGS_MODULE": "config.settings.local", **extra}
        return subprocess.run(
            [sys.executable, "-c", code], cwd=settings.BASE_DIR, env=environment, capture_output=True, text=True
        ).stdout.strip()

    assert origins() == "['http://localhost:5173', 'http://localhost:3000']"
    assert origins(DEBUG="false") == "[]"
    assert origins(CORS_ALLOWED_ORIGINS="https://app.example.com") == "['https://app.example.com']"


def test_nested_validation_errors_are_named_by_dotted_paths_and_list_items_by_their_list():
    class Window(serializers.Serializer):
        seconds = serializers.IntegerField(min_value=10)

        def validate(self, attrs):
            raise serializers.ValidationError("The window is refused as a whole.")

    class Body(serializers.Serializer):
        window = Window()
        windows = Window(many=True)
        tags = serializers.ListField(child=serializers.CharField(max_length=2))

    body = Body(data={"window": {"seconds": 5}, "windows": [{"seconds": 20}, {"seconds": 1}], "tags": ["a", "abc"]})
    assert not body.is_valid()

    assert {
        field: [str(message) for message in messages] for field, messages in flatten_errors(body.errors).items()
    } == {
        "window.seconds": ["Ensure this value is greater than or equal to 10."],
        "windows": ["The window is refused as a whole."],
        "windows.seconds": ["Ensure this value is greater than or equal to 10."],
        "tags": ["Ensure this field has no more than 2 characters."],
    }
    assert flatten_errors(serializers.ValidationError(body.errors).get_codes())["window.seconds"] == ["min_value"]
    assert flatten_errors(serializers.ValidationError("Whole body.").detail) == {"non_field_errors": ["Whole body."]}
