"""`/v1` with the official `openai` SDK against a live server on the offline engine: Whisper on
this machine's CPU, as a fresh install runs it."""

from decimal import Decimal

import openai
import pytest

from accounts.services import user_issue_tokens
from tests.factories import UserFactory
from tests.openai_api.live import live_server
from tests.speech import GREETINGS, GREETINGS_IN_ENGLISH, espeak, joined, normalise, word_error_rate
from transcriptions.models import Transcription
from wallet.models import Hold, Transaction

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker, tmp_path_factory):
    with live_server(tmp_path_factory, django_db_blocker, TRANSCRIPTION_ENGINE="local") as running:
        yield running


@pytest.fixture
def user():
    return UserFactory()


@pytest.fixture
def client(server, user) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key=user_issue_tokens(user=user)["access"])


@pytest.fixture(scope="module")
def librivox_wav(audio_dir):
    """25 s of five people-read sentences, with what was said."""
    return joined(audio_dir / "librivox.wav")


def test_the_offline_model_is_listed_beside_whisper_1(client):
    models = {model.id: model.owned_by for model in client.models.list()}

    assert models == {"whisper-1": "local", "whisper-base": "local"}


def test_whisper_on_this_machine_transcribes_speech_with_word_timings(client, user, librivox_wav):
    result = client.audio.transcriptions.create(
        file=librivox_wav.path.open("rb"),
        model="whisper-base",
        response_format="verbose_json",
        timestamp_granularities=["word"],
        language="en",
    )

    assert word_error_rate(librivox_wav.text, result.text) <= 0.1, result.text
    assert word_error_rate(librivox_wav.text, " ".join(word.word for word in result.words)) <= 0.1
    assert all(a.start <= b.start and a.start <= a.end for a, b in zip(result.words, result.words[1:], strict=False))
    assert result.words[-1].end <= result.duration + 0.05
    assert result.segments is None  # asked for words only
    job = Transcription.objects.get(user=user)
    assert (job.engine, job.model, job.source, job.timestamps) == ("local", "whisper-base", "openai", "word")
    assert (job.demo_minutes_used, job.amount) == (job.billable_minutes, Decimal("0.00"))  # demo minutes first
    assert Transaction.objects.filter(subject_id=job.pk).count() == 1


def test_a_stream_of_offline_speech_gives_a_delta_a_phrase_then_the_whole_text(client, user, librivox_wav):
    events = list(client.audio.transcriptions.create(file=librivox_wav.path.open("rb"), model="whisper-1", stream=True))

    assert [event.type for event in events[-2:]] == ["transcript.text.delta", "transcript.text.done"]
    assert len(events) >= 4  # one delta a segment: several phrases
    assert "".join(event.delta for event in events[:-1]) == events[-1].text
    assert word_error_rate(librivox_wav.text, events[-1].text) <= 0.1, events[-1].text


def test_speaker_labels_offline_are_a_bad_request_and_hold_nothing(client, user, speech_wav):
    with pytest.raises(openai.BadRequestError) as refused:
        client.audio.transcriptions.create(
            file=speech_wav.open("rb"), model="whisper-1", response_format="diarized_json"
        )

    assert (refused.value.code, refused.value.param) == ("unsupported_option", "response_format")
    assert not Transcription.objects.filter(user=user).exists()
    assert not Hold.objects.filter(wallet__user=user).exists()
    assert not user.audio_files.exists()


def test_the_sdk_translates_french_speech_to_english_on_this_machine(client, user, tmp_path):
    clip = espeak(tmp_path / "fr.wav", voice="fr", text=GREETINGS["fr"])

    result = client.audio.translations.create(
        file=clip.open("rb"), model="whisper-base", response_format="verbose_json"
    )

    assert result.task == "translate"
    assert set(normalise(result.text)) >= GREETINGS_IN_ENGLISH, result.text
    job = Transcription.objects.get(user=user)
    assert (job.task, job.engine, job.model, job.source, job.status) == (
        "translate",
        "local",
        "whisper-base",
        "openai",
        "completed",
    )
