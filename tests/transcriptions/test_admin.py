import pytest
from django.contrib.messages import get_messages

from tests.factories import UserFactory
from tests.transcriptions.fake_openai import error, transcript
from transcriptions.models import Transcription
from transcriptions.services import transcription_create


@pytest.fixture
def admin_client(client):
    admin = UserFactory(email="admin@example.com", is_staff=True, is_superuser=True)
    client.force_login(admin)
    return client


@pytest.mark.django_db(transaction=True)  # the retried job runs after its commit, as in production
def test_admin_retries_a_failed_transcription_as_a_new_paid_job(
    admin_client, user, make_audio_file, speech_wav, fake_openai
):
    fake_openai.respond = lambda request: error(500)
    failed, _ = transcription_create(user=user, audio_file_id=make_audio_file(user, speech_wav).pk)
    fake_openai.respond = transcript

    response = admin_client.post(
        "/admin/transcriptions/transcription/",
        {"action": "retry", "_selected_action": [str(failed.pk)]},
        follow=True,
    )

    assert response.status_code == 200
    retried = Transcription.objects.exclude(pk=failed.pk).get()
    assert retried.status == "completed"
    assert Transcription.objects.get(pk=failed.pk).status == "failed"
    [message] = get_messages(response.wsgi_request)
    assert f"retried as {retried.pk} (completed)" in str(message)


@pytest.mark.django_db
def test_admin_cannot_retry_a_transcription_that_has_not_failed(admin_client, user, make_audio_file, speech_wav):
    pending, _ = transcription_create(user=user, audio_file_id=make_audio_file(user, speech_wav).pk)

    response = admin_client.post(
        "/admin/transcriptions/transcription/",
        {"action": "retry", "_selected_action": [str(pending.pk)]},
        follow=True,
    )

    assert Transcription.objects.count() == 1
    [message] = get_messages(response.wsgi_request)
    assert "Only a failed transcription" in str(message)
