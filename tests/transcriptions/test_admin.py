import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.messages import get_messages

from tests.factories import TranscriptionFactory, UserFactory
from tests.transcriptions.fake_openai import error, transcript
from transcriptions.models import Transcription
from transcriptions.services import transcription_create
from wallet.models import Hold


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
        {"action": "retry", "_selected_action": [str(failed.pk)], "apply": "1", "reason": "Provider outage over"},
        follow=True,
    )

    assert response.status_code == 200
    retried = Transcription.objects.exclude(pk=failed.pk).get()
    assert retried.status == "completed"
    assert Transcription.objects.get(pk=failed.pk).status == "failed"
    [message] = get_messages(response.wsgi_request)
    assert f"retried as {retried.pk} (completed)" in str(message)
    entry = LogEntry.objects.get(object_id=str(failed.pk))
    assert entry.get_change_message() == f"Retry: retried as {retried.pk} (completed). Reason: Provider outage over"


@pytest.mark.django_db
def test_admin_cannot_retry_a_transcription_that_has_not_failed(admin_client, user, make_audio_file, speech_wav):
    pending, _ = transcription_create(user=user, audio_file_id=make_audio_file(user, speech_wav).pk)

    response = admin_client.post(
        "/admin/transcriptions/transcription/",
        {"action": "retry", "_selected_action": [str(pending.pk)], "apply": "1", "reason": "x"},
        follow=True,
    )

    assert Transcription.objects.count() == 1
    [message] = get_messages(response.wsgi_request)
    assert "Only a failed transcription" in str(message)


def act(admin_client, action: str, transcription: Transcription, reason: str = "Stuck since the night"):
    return admin_client.post(
        "/admin/transcriptions/transcription/",
        {"action": action, "_selected_action": [str(transcription.pk)], "apply": "1", "reason": reason},
        follow=True,
    )


@pytest.mark.django_db
def test_admin_asks_for_a_reason_before_acting(admin_client, user):
    job = TranscriptionFactory(user=user, status="processing")

    form = admin_client.post(
        "/admin/transcriptions/transcription/", {"action": "stop", "_selected_action": [str(job.pk)]}
    )

    assert form.status_code == 200 and 'name="reason"' in form.content.decode()
    job.refresh_from_db()
    assert job.status == "processing"


@pytest.mark.django_db
def test_admin_stops_a_stuck_job_releasing_its_hold_and_logs_why(
    admin_client, user, make_audio_file, speech_wav, settings
):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "memory://"
    job, _ = transcription_create(user=user, audio_file_id=make_audio_file(user, speech_wav).pk)  # never picked up
    assert Hold.objects.get(subject_id=str(job.pk)).status == "held"

    response = act(admin_client, "stop", job)

    job.refresh_from_db()
    assert (job.status, job.error_code) == ("failed", "transcription_stopped")
    assert Hold.objects.get(subject_id=str(job.pk)).status == "released"
    [message] = get_messages(response.wsgi_request)
    assert "stopped: failed, its hold released." in str(message)
    assert "Reason: Stuck since the night" in LogEntry.objects.get(object_id=str(job.pk)).get_change_message()
    [again] = get_messages(act(admin_client, "stop", job).wsgi_request)
    assert "Only a pending or processing" in str(again)


@pytest.mark.django_db
def test_admin_queues_a_stuck_job_again(admin_client, user, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "memory://"
    job = TranscriptionFactory(user=user, status="processing", run_id="lost-worker")

    act(admin_client, "requeue", job)

    job.refresh_from_db()
    assert (job.status, job.requeues, job.run_id) == ("pending", 1, "")
