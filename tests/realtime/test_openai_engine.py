"""Live sessions on the OpenAI engine: each committed utterance goes to the upstream
`/audio/transcriptions` (here the local fake of OpenAI's API), never to an upstream Realtime socket,
so any OpenAI-compatible server named by OPENAI_BASE_URL serves them."""

import asyncio
import time

import pytest

from accounts.services import api_key_create
from tests.factories import UserFactory
from tests.openai_api.live import live_server
from tests.realtime.client import events_until, pcm_of, start, stream
from tests.speech import librivox
from tests.transcriptions.fake_openai import FakeOpenAI, error, transcript
from transcriptions.models import Transcription
from wallet.audit import wallet_audit
from wallet.models import Wallet

pytestmark = pytest.mark.django_db(transaction=True)
COMPLETED = "conversation.item.input_audio_transcription.completed"
FAILED = "conversation.item.input_audio_transcription.failed"


@pytest.fixture(scope="module")
def upstream():
    calls = {"count": 0}

    def second_refused(request):  # the second utterance of a session is refused upstream
        calls["count"] += 1
        return error(400, "Audio file might be corrupted.") if calls["count"] % 2 == 0 else transcript(request)

    with FakeOpenAI(respond=second_refused) as fake:
        yield fake


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker, tmp_path_factory, upstream):
    with live_server(
        tmp_path_factory,
        django_db_blocker,
        TRANSCRIPTION_ENGINE="openai",
        OPENAI_API_KEY="sk-test",
        OPENAI_BASE_URL=upstream.base_url,
        OPENAI_MAX_RETRIES="0",
    ) as running:
        yield running


def test_each_utterance_is_one_upstream_transcription_and_a_refused_one_is_not_charged(server, upstream):
    user = UserFactory()
    key = api_key_create(user=user, name="live").key
    first, second = librivox()[1], librivox()[2]
    pcm = pcm_of(first.path, silence_after=1.0) + pcm_of(second.path, silence_after=1.0)

    async def scenario():
        ws, _, _ = await start(server, key, model="whisper-1")
        await stream(ws, pcm)
        events = await events_until(ws, COMPLETED)
        events += await events_until(ws, FAILED)
        await ws.close()
        return events

    events = asyncio.run(scenario())

    completed = [event for event in events if event["type"] == COMPLETED]
    failed = [event for event in events if event["type"] == FAILED]
    assert completed[0]["transcript"] == "First half of chunk-000.mp3. Second half of chunk-000.mp3."
    assert failed[0]["error"]["code"] == "transcription_rejected"
    assert len(upstream.requests) == 2
    for request, said in zip(upstream.requests, (first, second), strict=True):
        assert request.field("model") == "whisper-1"
        assert request.authorization == "Bearer sk-test"
        assert abs(request.duration - pcm_of(said.path).__len__() / 32_000) < 0.8  # the utterance, padded
    deadline = time.monotonic() + 30
    while (job := Transcription.objects.get(user=user)).status != Transcription.Status.COMPLETED:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert job.source == "realtime" and job.engine == "openai"
    assert job.text == "First half of chunk-000.mp3. Second half of chunk-000.mp3."
    # Charged for the first utterance and the silence around it, not for the refused one.
    assert float(job.audio_duration_seconds) < len(pcm) / 32_000 - len(pcm_of(second.path)) / 32_000 + 0.5
    wallet = Wallet.objects.get(user=user)
    assert (wallet.held, wallet.demo_minutes_held) == (0, 0)
    assert wallet_audit().mismatches == []
