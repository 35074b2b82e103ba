"""`manage.py transcribe`: the whole flow from a shell, on real audio with the offline engine."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.transcriptions.conftest import set_wallet
from transcriptions.models import Transcription
from wallet.models import Wallet

pytest.importorskip("audio.services", reason="the command stores the file with audio.services.audio_file_create")

# The job runs in a thread of the command, with its own connection: it must see committed rows.
pytestmark = pytest.mark.django_db(transaction=True)


def test_transcribe_prints_the_text_and_the_cost_with_a_progress_bar(user, speech_wav):
    out, err = StringIO(), StringIO()

    call_command("transcribe", str(speech_wav), "--user", user.email.upper(), stdout=out, stderr=err)

    job = Transcription.objects.get(user=user)
    assert job.status == "completed"
    assert out.getvalue() == (
        f"{job.text}\n\n{job.billable_minutes} minutes: {job.demo_minutes_used} demo minutes, "
        f"₹0.00 charged (local, whisper-base; transcription {job.pk})\n"
    )
    assert job.text.strip()
    assert "[##############################] 100%" in err.getvalue()
    assert Wallet.objects.get(user=user).demo_minutes_remaining == Decimal("10.00") - job.billable_minutes


def test_transcribe_explains_a_refusal(user, ninety_seconds_wav):
    set_wallet(user, balance=Decimal("0"), demo_minutes=Decimal("1.25"))

    with pytest.raises(CommandError, match=r"needs ₹0\.25"):
        call_command("transcribe", str(ninety_seconds_wav), "--user", user.email, stdout=StringIO(), stderr=StringIO())

    assert not Transcription.objects.exists()


def test_transcribe_refuses_what_is_not_audio(user, tmp_path):
    text = tmp_path / "notes.mp3"
    text.write_text("not audio at all")

    with pytest.raises(CommandError):
        call_command("transcribe", str(text), "--user", user.email, stdout=StringIO(), stderr=StringIO())


@pytest.mark.parametrize(
    ("path", "email", "message"), [("missing.wav", None, "No file"), (None, "nobody@example.com", "No user")]
)
def test_transcribe_needs_a_file_and_a_user(user, speech_wav, path, email, message):
    with pytest.raises(CommandError, match=message):
        call_command("transcribe", path or str(speech_wav), "--user", email or user.email, stdout=StringIO())
