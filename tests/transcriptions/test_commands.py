from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from transcriptions.models import Transcription
from transcriptions.services import transcription_create
from wallet.models import Hold

pytestmark = pytest.mark.django_db


def processing_since(user, make_audio_file, speech_wav, minutes: int) -> Transcription:
    job, _ = transcription_create(user=user, audio_file_id=make_audio_file(user, speech_wav).pk)
    Transcription.objects.filter(pk=job.pk).update(
        status="processing", started_at=timezone.now() - timedelta(minutes=minutes)
    )
    return job


def test_reaper_fails_jobs_processing_for_longer_than_asked_and_releases_their_holds(user, make_audio_file, speech_wav):
    stuck = processing_since(user, make_audio_file, speech_wav, minutes=120)
    busy = processing_since(user, make_audio_file, speech_wav, minutes=45)
    out = StringIO()

    call_command("reap_stuck_transcriptions", "--older-than", "1h", stdout=out)

    assert out.getvalue() == f"failed {stuck.pk}\n1 stuck transcription(s) failed and their holds released.\n"
    assert Transcription.objects.get(pk=stuck.pk).status == "failed"
    assert Hold.objects.get(transcription=stuck).status == "released"
    assert Transcription.objects.get(pk=busy.pk).status == "processing"


def test_reaper_defaults_to_thirty_minutes_and_is_safe_to_run_again(user, make_audio_file, speech_wav):
    stuck = processing_since(user, make_audio_file, speech_wav, minutes=31)

    call_command("reap_stuck_transcriptions", stdout=StringIO())
    out = StringIO()
    call_command("reap_stuck_transcriptions", stdout=out)

    assert Transcription.objects.get(pk=stuck.pk).status == "failed"
    assert out.getvalue() == "0 stuck transcription(s) failed and their holds released.\n"


@pytest.mark.parametrize("value", ["30", "0m", "-5m", "soon", "1w"])
def test_reaper_refuses_a_duration_it_cannot_read(value):
    with pytest.raises(CommandError, match="is not a duration"):
        call_command("reap_stuck_transcriptions", f"--older-than={value}")
