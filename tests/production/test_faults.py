"""Services going away under a running application: it answers 503 and recovers by itself."""

import subprocess
from pathlib import Path

import pytest
from django.db import close_old_connections, connection
from django.test import override_settings

from audio.models import AudioFile
from tests.conftest import client_for
from tests.factories import UserFactory
from tests.production.faults import CuttableProxy


@pytest.fixture
def database_behind_proxy(transactional_db):
    if connection.vendor != "mysql":
        pytest.skip("only MySQL/MariaDB is reached over the network; SQLite is a local file")
    settings_dict = connection.settings_dict
    original = settings_dict["HOST"], settings_dict["PORT"]
    proxy = CuttableProxy(original[0] or "127.0.0.1", int(original[1] or 3306))
    connection.close()
    settings_dict["HOST"], settings_dict["PORT"] = "127.0.0.1", proxy.port
    yield proxy
    proxy.close()
    connection.close()
    settings_dict["HOST"], settings_dict["PORT"] = original


def test_database_outage_is_a_clean_503_and_the_api_recovers(database_behind_proxy, anon_client):
    client = client_for(UserFactory())  # not signed in yet, so the user is not cached

    database_behind_proxy.cut()
    ready = anon_client.get("/ready/")
    close_old_connections()  # what the server does after each request
    api = client.get("/api/auth/user/")
    close_old_connections()

    database_behind_proxy.restore()
    ready_again = anon_client.get("/ready/")
    api_again = client.get("/api/auth/user/")

    assert ready.status_code == 503
    assert ready.json()["checks"]["database"] == "unavailable"
    assert api.status_code == 503
    assert api.json() == {
        "detail": "The service is briefly unavailable. Please try again shortly.",
        "code": "service_unavailable",
    }
    assert api["Retry-After"] == "5"
    assert ready_again.status_code == 200
    assert api_again.status_code == 200


@pytest.mark.django_db
def test_redis_outage_degrades_to_the_database(user):
    proxy = CuttableProxy("127.0.0.1", 6379)
    redis_cache = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{proxy.port}/13",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.3, "SOCKET_TIMEOUT": 0.3, "IGNORE_EXCEPTIONS": True},
        }
    }
    try:
        with override_settings(CACHES=redis_cache):
            client = client_for(user)
            warm = client.get("/api/auth/user/")
            proxy.cut()
            cold = client.get("/api/auth/user/")
            ready = client.get("/ready/")
            proxy.restore()
            back = client.get("/ready/")
    finally:
        proxy.close()

    assert warm.status_code == 200
    assert cold.status_code == 200
    assert cold.json()["id"] == str(user.id)
    assert ready.status_code == 503
    assert ready.json()["checks"] == {"database": "ok", "cache": "unavailable"}
    assert back.status_code == 200


def test_database_outage_during_an_upload_leaves_no_file_and_no_row(database_behind_proxy, settings, tmp_path):
    audio = tmp_path / "talk.mp3"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=duration=3", str(audio)], check=True)
    user = UserFactory()
    client = client_for(user)
    assert client.get("/api/auth/user/").status_code == 200  # the user is cached: the upload gets past sign-in

    database_behind_proxy.cut()
    with audio.open("rb") as file:
        response = client.post("/api/audio/", {"file": file}, format="multipart")
    close_old_connections()
    database_behind_proxy.restore()

    assert response.status_code == 503
    assert response.json()["code"] == "service_unavailable"
    assert not AudioFile.objects.exists()
    assert not [
        path for path in (Path(settings.MEDIA_ROOT) / "audio_files" / str(user.id)).rglob("*") if path.is_file()
    ]
