"""Audio on a real S3 server (SeaweedFS): upload, transcription by a worker that fetches the
object, download-free deletion, refusals that leave nothing in the bucket, and a store that fails."""

import time
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from botocore.exceptions import ClientError
from django.core.files.storage import default_storage
from django.utils import timezone

from audio.models import AudioFile, DirectUpload, PendingFileDeletion
from audio.services import audio_file_local_copy, stored_file_retry_deletions
from audio.tasks import clean_up_storage
from tests.audio.conftest import files_under
from tests.audio.test_api import upload
from tests.s3 import SECRET_KEY
from transcriptions.models import Transcription

pytestmark = pytest.mark.django_db(transaction=True)  # the job runs, and files are deleted, after commit


def test_an_upload_goes_to_the_bucket_and_nowhere_on_disk(api_client, user, samples, settings, s3_storage):
    source = samples.tone(30)

    response = upload(api_client, source, filename="Call.mp3")

    assert response.status_code == 201
    audio = AudioFile.objects.get(user=user)
    assert s3_storage.keys() == [f"audio_files/{user.pk}/{audio.pk}.mp3"]
    stored = s3_storage.server.client().get_object(Bucket=s3_storage.bucket, Key=audio.file.name)["Body"].read()
    assert stored == source.read_bytes()
    assert files_under(settings.MEDIA_ROOT) == []
    assert files_under(settings.FILE_UPLOAD_TEMP_DIR) == []


def test_a_large_upload_goes_to_the_bucket_in_parts(api_client, user, samples, s3_storage):
    source = samples.tone(300, "wav")  # 9.6 MB: over boto3's 8 MB multipart threshold
    calls: list[str] = []
    events = default_storage.connection.meta.client.meta.events
    for operation in ("PutObject", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload"):
        events.register(f"before-call.s3.{operation}", lambda model, **kwargs: calls.append(model.name))

    response = upload(api_client, source, filename="Long.wav")

    assert response.status_code == 201, response.json()
    assert calls[0] == "CreateMultipartUpload" and calls[-1] == "CompleteMultipartUpload"
    assert calls.count("UploadPart") >= 2 and "PutObject" not in calls
    key = f"audio_files/{user.pk}/{response.json()['id']}.wav"
    assert s3_storage.server.client().head_object(Bucket=s3_storage.bucket, Key=key)["ContentLength"] == (
        source.stat().st_size
    )


@pytest.mark.parametrize("content", [b"not audio at all" * 100, b""])
def test_a_refused_upload_leaves_nothing_in_the_bucket(api_client, user, s3_storage, content):
    response = upload(api_client, content)

    assert response.status_code == 400
    assert s3_storage.keys() == []
    assert not AudioFile.objects.exists()


def test_when_the_row_cannot_be_written_the_object_is_deleted(api_client, user, samples, s3_storage, monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr(AudioFile, "save", fail)

    with pytest.raises(RuntimeError):
        upload(api_client, samples.tone(5))

    assert s3_storage.keys() == []
    assert not PendingFileDeletion.objects.exists()


def test_a_worker_transcribes_audio_it_fetches_from_the_bucket_and_keeps_no_copy(
    api_client, user, samples, settings, s3_storage, tmp_path
):
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "worker-tmp")
    Path(settings.FILE_UPLOAD_TEMP_DIR).mkdir()
    audio = upload(api_client, samples.speech()).json()

    response = api_client.post("/api/transcriptions/", {"audio_file": audio["id"]}, format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "completed"
    assert response.json()["text"].strip()
    assert files_under(settings.FILE_UPLOAD_TEMP_DIR) == []
    assert files_under(settings.MEDIA_ROOT) == []


def test_the_local_copy_is_removed_even_when_the_work_fails(user, samples, s3_storage, api_client, tmp_path, settings):
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    audio = AudioFile.objects.get(pk=upload(api_client, samples.tone(3)).json()["id"])

    with pytest.raises(ZeroDivisionError), audio_file_local_copy(audio_file=audio) as path:
        assert path.read_bytes() == samples.tone(3).read_bytes()
        assert path.parent == tmp_path
        1 / 0  # noqa: B018

    assert files_under(tmp_path) == []


def test_deleting_audio_deletes_the_object(api_client, user, samples, s3_storage):
    audio = upload(api_client, samples.tone(3)).json()

    assert api_client.delete(f"/api/audio/{audio['id']}/").status_code == 204

    assert s3_storage.keys() == []
    assert not PendingFileDeletion.objects.exists()


def test_a_delete_the_store_refuses_is_kept_and_tried_again(api_client, user, samples, s3_storage, settings):
    audio = upload(api_client, samples.tone(3)).json()
    settings.AWS_S3_SECRET_ACCESS_KEY = "wrong"
    settings.STORAGES = {**settings.STORAGES}  # the storage is made again, with the wrong key

    assert api_client.delete(f"/api/audio/{audio['id']}/").status_code == 204  # the row goes at once

    pending = PendingFileDeletion.objects.get()
    assert pending.attempts == 1
    assert "403" in pending.last_error or "AccessDenied" in pending.last_error or "Signature" in pending.last_error
    assert len(s3_storage.keys()) == 1
    settings.AWS_S3_SECRET_ACCESS_KEY = SECRET_KEY
    settings.STORAGES = {**settings.STORAGES}

    assert stored_file_retry_deletions() == 0

    assert s3_storage.keys() == []
    assert not PendingFileDeletion.objects.exists()


def test_a_wrong_key_is_refused_by_the_store_and_the_upload_is_503(api_client, user, samples, s3_storage, settings):
    settings.AWS_S3_SECRET_ACCESS_KEY = "wrong"
    settings.STORAGES = {**settings.STORAGES}

    response = upload(api_client, samples.tone(3))

    assert (response.status_code, response.json()["code"]) == (503, "storage_unavailable")
    assert not AudioFile.objects.exists()
    assert s3_storage.keys() == []


def test_a_job_whose_audio_cannot_be_read_fails_with_nothing_charged(api_client, user, samples, s3_storage):
    audio = upload(api_client, samples.speech()).json()
    s3_storage.server.client().delete_object(Bucket=s3_storage.bucket, Key=AudioFile.objects.get().file.name)

    response = api_client.post("/api/transcriptions/", {"audio_file": audio["id"]}, format="json")

    assert (response.status_code, response.json()["code"]) == (503, "transcription_storage_unavailable")
    job = Transcription.objects.get()
    assert (job.status, job.error_code) == ("failed", "transcription_storage_unavailable")
    assert user.wallet.held == 0


# --- Direct uploads: the client PUTs to a signed URL, then completes -------------------------------


def start(client, size: int, filename: str = "Board meeting.mp3"):
    return client.post("/api/audio/uploads/", {"filename": filename, "size_bytes": size}, format="json")


def put(url: str, content: bytes, headers: dict[str, str] | None = None) -> requests.Response:
    return requests.put(url, data=content, headers=headers or {}, timeout=10)


def test_a_direct_upload_goes_to_the_bucket_and_becomes_an_audio_file(api_client, user, samples, s3_storage):
    content = samples.tone(20).read_bytes()

    started = start(api_client, len(content))
    assert started.status_code == 201, started.json()
    body = started.json()
    assert (body["method"], body["headers"]) == ("PUT", {"Content-Length": str(len(content))})
    assert put(body["url"], content, body["headers"]).status_code == 200
    completed = api_client.post(f"/api/audio/uploads/{body['id']}/complete/")

    assert completed.status_code == 201, completed.json()
    audio = completed.json()
    assert (audio["id"], audio["original_filename"], audio["format"], audio["size_bytes"]) == (
        body["id"],
        "Board meeting.mp3",
        "mp3",
        len(content),
    )
    assert abs(float(audio["duration_seconds"]) - 20) < 0.1
    assert s3_storage.keys() == [f"audio_files/{user.pk}/{body['id']}"]
    assert not DirectUpload.objects.exists()
    assert api_client.post(f"/api/audio/uploads/{body['id']}/complete/").status_code == 404  # done once
    job = api_client.post("/api/transcriptions/", {"audio_file": audio["id"]}, format="json")
    assert job.json()["status"] == "completed"


def test_a_direct_upload_that_is_not_audio_is_refused_and_deleted(api_client, user, s3_storage):
    content = b"%PDF-1.7 not audio" * 100
    body = start(api_client, len(content)).json()
    put(body["url"], content, body["headers"])

    completed = api_client.post(f"/api/audio/uploads/{body['id']}/complete/")

    assert (completed.status_code, completed.json()["code"]) == (400, "unsupported_format")
    assert s3_storage.keys() == []
    assert not DirectUpload.objects.exists()
    assert not AudioFile.objects.exists()


def test_completing_before_anything_was_sent_is_409(api_client, user, s3_storage):
    body = start(api_client, 1000).json()

    completed = api_client.post(f"/api/audio/uploads/{body['id']}/complete/")

    assert (completed.status_code, completed.json()["code"]) == (409, "upload_missing")
    assert DirectUpload.objects.exists()  # it may still be sent


@pytest.mark.parametrize(("size", "status", "code"), [(0, 400, "empty_file"), (10**12, 413, "file_too_large")])
def test_a_direct_upload_of_a_refused_size_is_not_started(api_client, user, s3_storage, size, status, code):
    response = start(api_client, size)

    assert (response.status_code, response.json()["code"]) == (status, code)
    assert not DirectUpload.objects.exists()


def test_the_signed_url_takes_only_the_declared_size(api_client, user, s3_storage):
    body = start(api_client, 1000).json()

    refused = put(body["url"], b"x" * 2000)

    assert refused.status_code == 403
    assert s3_storage.keys() == []


def test_an_expired_or_tampered_url_is_refused_by_the_store(api_client, user, s3_storage, settings):
    settings.DIRECT_UPLOAD_EXPIRY_SECONDS = 1
    body = start(api_client, 10).json()
    tampered = body["url"].replace("X-Amz-Signature=", "X-Amz-Signature=0")
    assert put(tampered, b"x" * 10, body["headers"]).status_code == 403

    time.sleep(2.1)

    assert put(body["url"], b"x" * 10, body["headers"]).status_code == 403
    assert s3_storage.keys() == []


def test_unsigned_and_wrongly_signed_requests_to_the_bucket_are_403(s3_storage):
    unsigned = requests.get(f"{s3_storage.server.endpoint_url}/{s3_storage.bucket}/anything", timeout=10)
    wrong = s3_storage.server.client(secret_key="wrong")

    assert unsigned.status_code == 403
    with pytest.raises(ClientError) as refused:
        wrong.put_object(Bucket=s3_storage.bucket, Key="x", Body=b"x")
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_another_users_upload_cannot_be_completed(api_client, other_client, user, s3_storage):
    body = start(other_client, 10).json()

    response = api_client.post(f"/api/audio/uploads/{body['id']}/complete/")

    assert (response.status_code, response.json()["code"]) == (404, "not_found")


def test_uploads_never_completed_are_cleaned_up_with_what_was_sent(api_client, user, samples, s3_storage):
    content = samples.tone(2).read_bytes()
    body = start(api_client, len(content)).json()
    put(body["url"], content, body["headers"])
    DirectUpload.objects.update(expires_at=timezone.now() - timedelta(days=1, minutes=1))

    clean_up_storage.apply(throw=True)

    assert not DirectUpload.objects.exists()
    assert s3_storage.keys() == []


def test_direct_uploads_need_object_storage(api_client, user):
    response = start(api_client, 1000)

    assert (response.status_code, response.json()["code"]) == (400, "direct_upload_unavailable")
