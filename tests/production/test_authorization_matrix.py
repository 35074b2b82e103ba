"""Every operation in the API schema, checked for who may reach it: without a token → 401 (the
sign-in endpoints and Razorpay's webhook excepted; in OpenAI's shape on `/v1`); with an API key →
reached, except where the schema offers only a JWT (403 `api_key_not_allowed`); and another user's
object → 404, never 403 and never the object."""

import subprocess
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files import File
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator

from accounts.services import api_key_create
from audio.models import DirectUpload
from audio.services import audio_file_create, stored_file_save
from tests.conftest import client_for, key_client
from tests.factories import TranscriptionFactory
from transcriptions.models import Transcription
from webhooks.models import Endpoint

PUBLIC = {
    ("post", "/api/auth/google/login/"),
    ("post", "/api/auth/facebook/login/"),
    ("post", "/api/auth/token/refresh/"),
    ("post", "/api/payments/webhook/"),
}


PATHS = SchemaGenerator().get_schema(request=None, public=True)["paths"]
OPERATIONS = sorted((method, path) for path, item in PATHS.items() for method in item if method != "parameters")
# What the schema says needs a JWT: offered no API key (`apiKeyAuth`) among its security schemes.
JWT_ONLY = {
    (method, path)
    for method, path in OPERATIONS
    if (method, path) not in PUBLIC
    and not any("apiKeyAuth" in scheme for scheme in PATHS[path][method].get("security", []))
}


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path"), [op for op in OPERATIONS if op not in PUBLIC])
def test_without_a_token_every_operation_is_401(anon_client, method, path):
    response = getattr(anon_client, method)(path.replace("{id}", str(uuid.uuid4())).replace("{model}", "whisper-1"))

    assert response.status_code == 401
    if path.startswith("/v1/"):  # the OpenAI-compatible API answers as OpenAI does
        assert response.json()["error"]["code"] == "invalid_api_key"
    else:
        assert response.json()["code"] == "not_authenticated"


def test_every_public_operation_is_in_the_schema():
    assert set(OPERATIONS) >= PUBLIC


def test_only_key_management_and_the_accounts_export_and_deletion_need_a_jwt():
    assert {
        ("get", "/api/api-keys/"),
        ("post", "/api/api-keys/"),
        ("delete", "/api/api-keys/{id}/"),
        ("get", "/api/auth/user/export/"),
        ("delete", "/api/auth/user/"),
    } == JWT_ONLY


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path"), [op for op in OPERATIONS if op not in PUBLIC])
def test_with_an_api_key_every_operation_is_reached_but_those_that_need_a_jwt(user, method, path):
    client = key_client(api_key_create(user=user, name="matrix").key)

    response = getattr(client, method)(path.replace("{id}", str(uuid.uuid4())))

    if (method, path) in JWT_ONLY:
        assert (response.status_code, response.json()["code"]) == (403, "api_key_not_allowed")
        assert "403" in PATHS[path][method]["responses"]
    else:
        assert response.status_code not in (401, 403), response.content
    user.refresh_from_db()
    assert user.is_active


@pytest.fixture
def owners_objects(user, tmp_path):
    """An audio file, a completed transcription (with segments and a redacted copy of its audio), a
    webhook endpoint, a direct upload and an API key belonging to `user`."""
    path = tmp_path / "owner.mp3"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=duration=2", "-ac", "1", str(path)], check=True)
    with path.open("rb") as file:
        audio = audio_file_create(user=user, file=File(file), original_filename="owner.mp3")
    transcription = TranscriptionFactory(
        user=user,
        audio_file=audio,
        redacted_audio=stored_file_save(name=f"redacted_audio/{user.pk}/owner.mp3", path=path),
        billable_minutes=Decimal("0.04"),
        status=Transcription.Status.COMPLETED,
        engine="local",
        text="private words",
        segments=[{"start": 0.0, "end": 2.0, "text": "private words"}],
    )
    webhook = Endpoint.objects.create(
        user=user, url="http://127.0.0.1:9/private-words", events=["transcription.failed"]
    )
    upload = DirectUpload.objects.create(
        user=user,
        key=f"audio_files/{user.pk}/private-words",
        original_filename="private words.mp3",
        size_bytes=10,
        expires_at=timezone.now() + timedelta(hours=1),
    )
    api_key = api_key_create(user=user, name="private words").api_key
    return {"audio": audio, "transcription": transcription, "webhook": webhook, "upload": upload, "api_key": api_key}


# Each operation on an object by id, with how to reach the owner's object.
BY_ID = {
    ("get", "/api/audio/{id}/"): "audio",
    ("delete", "/api/audio/{id}/"): "audio",
    ("get", "/api/transcriptions/{id}/"): "transcription",
    ("delete", "/api/transcriptions/{id}/"): "transcription",
    ("get", "/api/webhooks/{id}/"): "webhook",
    ("delete", "/api/webhooks/{id}/"): "webhook",
    ("post", "/api/webhooks/{id}/test/"): "webhook",
    ("post", "/api/audio/uploads/{id}/complete/"): "upload",
    ("get", "/api/webhooks/{id}/deliveries/"): "webhook",
    ("get", "/api/transcriptions/{id}/download/"): "transcription",
    ("get", "/api/transcriptions/{id}/redacted_audio/"): "transcription",
    ("delete", "/api/api-keys/{id}/"): "api_key",
}


def test_the_matrix_covers_every_operation_with_an_id():
    assert {op for op in OPERATIONS if "{id}" in op[1]} == set(BY_ID)


CASES = [(method, path, "") for method, path in sorted(BY_ID)] + [
    ("get", "/api/transcriptions/{id}/download/", "?format=srt")
]


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path", "query"), CASES)
def test_another_users_object_is_404(owners_objects, other_client, api_client, method, path, query):
    target = owners_objects[BY_ID[method, path]]
    url = path.replace("{id}", str(target.pk)) + query

    stranger = getattr(other_client, method)(url)
    owner = api_client.get(url) if method == "get" else None

    assert stranger.status_code == 404
    assert stranger.json()["code"] == "not_found"
    assert b"private words" not in stranger.content
    assert owner is None or owner.status_code == 200
    assert type(target).objects.filter(pk=target.pk).exists()
    target.refresh_from_db()
    assert getattr(target, "deleted_at", None) is None  # a transcription deleted is only a tombstone
    assert getattr(target, "revoked_at", None) is None  # an API key deleted is only revoked


@pytest.mark.django_db
def test_transcribing_another_users_audio_is_404_and_creates_nothing(owners_objects, other_client):
    response = other_client.post("/api/transcriptions/", {"audio_file": str(owners_objects["audio"].pk)}, format="json")

    assert response.status_code == 404
    assert Transcription.objects.count() == 1


@pytest.mark.django_db
def test_lists_and_exports_show_only_your_own(owners_objects, other_client):
    for url in ("/api/audio/", "/api/transcriptions/", "/api/wallet/transactions/", "/api/api-keys/"):
        body = other_client.get(url).json()
        assert body["count"] == (1 if url.endswith("transactions/") else 0)  # the stranger's own demo grant
    export = b"".join(other_client.get("/api/transcriptions/export_csv/").streaming_content)
    assert b"private words" not in export
    assert client_for(owners_objects["audio"].user).get("/api/audio/").json()["count"] == 1
