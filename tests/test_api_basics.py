import pytest
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import path

from config import urls as project_urls


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


def test_docs_page_is_served(client):
    assert client.get("/api/docs/").status_code == 200
