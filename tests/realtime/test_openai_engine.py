"""Live sessions on the OpenAI engine: each committed utterance goes to the upstream
`/audio/transcriptions` (here the local fake of OpenAI's API), never to an upstream Realtime socket,
so any OpenAI-compatible server named by OPENAI_BASE_URL serves them."""

import asyncio
import time

import pytest

from accounts.services import api_key_create
from tests.factories import UserFactory
from tests.openai_api.live import live_server
from tests.realtime.client import events_until, pcm_of, receive, send, start, stream
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
    def long_refused(request):  # librivox()[2] (5.3 s) is refused upstream, librivox()[1] (3 s) is not
        return error(400, "Audio file might be corrupted.") if request.duration > 4.5 else transcript(request)

    with FakeOpenAI(respond=long_refused) as fake:
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
    for request, said in zip(upstream.requests[-2:], (first, second), strict=True):  # this test's two
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


def test_the_sessions_prompt_goes_with_each_utterance_and_a_model_that_takes_none_refuses_it(server, upstream):
    user = UserFactory()
    key = api_key_create(user=user, name="live").key
    prompt = "Mrs. John Dashwood, of Norland Park."

    async def scenario():
        ws, _, updated = await start(server, key, model="whisper-1", prompt=prompt)
        diarize = {"model": "gpt-4o-transcribe-diarize", "prompt": prompt}
        await send(
            ws, "session.update", session={"type": "transcription", "audio": {"input": {"transcription": diarize}}}
        )
        refused = await receive(ws)
        await stream(ws, pcm_of(librivox()[1].path, silence_after=1.0))
        events = await events_until(ws, COMPLETED)
        await ws.close()
        return updated, refused, events

    updated, refused, events = asyncio.run(scenario())

    assert updated["session"]["audio"]["input"]["transcription"]["prompt"] == prompt
    assert refused["type"] == "error"
    assert refused["error"]["code"] == "unsupported_option"
    assert refused["error"]["param"] == "session.audio.input.transcription.prompt"
    assert "error" not in [event["type"] for event in events]  # the session went on, as it was
    sent = [request for request in upstream.requests if request.field("prompt") == prompt]
    assert len(sent) == 1 and sent[0].field("model") == "whisper-1"
    deadline = time.monotonic() + 30
    while (job := Transcription.objects.get(user=user)).status != Transcription.Status.COMPLETED:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert (job.model, job.prompt) == ("whisper-1", prompt)
    assert wallet_audit().mismatches == []
