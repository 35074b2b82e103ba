"""A live session's bounds: REALTIME_IDLE_SECONDS without a client event, REALTIME_MAX_MINUTES of audio."""

import asyncio
import contextlib
import time
from decimal import Decimal

import pytest
import websockets

from accounts.services import api_key_create, api_key_revoke
from tests.factories import UserFactory
from tests.openai_api.live import LiveServer, live_server
from tests.realtime.client import all_events, events_until, pcm_of, send, start, stream
from tests.speech import joined, librivox, word_error_rate
from transcriptions.models import Transcription
from wallet.audit import wallet_audit
from wallet.models import Wallet

pytestmark = pytest.mark.django_db(transaction=True)
COMPLETED = "conversation.item.input_audio_transcription.completed"


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker, tmp_path_factory):
    with live_server(
        tmp_path_factory,
        django_db_blocker,
        TRANSCRIPTION_ENGINE="local",
        REALTIME_IDLE_SECONDS="3",
        REALTIME_MAX_MINUTES="1",
        REALTIME_MAX_UNCOMMITTED_SECONDS="10",
    ) as running:
        yield running


def test_audio_never_committed_is_committed_every_max_uncommitted_seconds(server, tmp_path):
    """Manual commits, and a client that sends 27 s without committing: the server commits each 10 s
    (REALTIME_MAX_UNCOMMITTED_SECONDS) itself, the client's own commit takes the rest, nothing is lost."""
    user = UserFactory()
    key = api_key_create(user=user, name="live").key
    speech = joined(tmp_path / "speech.wav", pause_seconds=0.5)
    pcm = pcm_of(speech.path)

    async def scenario():
        ws, _, _ = await start(server, key, turn_detection=None)
        await stream(ws, pcm)
        await send(ws, "input_audio_buffer.commit")
        return await all_events(ws)  # until the idle time closes the session

    events = asyncio.run(scenario())

    committed = [event for event in events if event["type"] == "input_audio_buffer.committed"]
    completed = [event for event in events if event["type"].endswith("transcription.completed")]
    assert len(committed) == len(completed) == 3
    assert [event["usage"]["seconds"] for event in completed[:2]] == [10.0, 10.0]
    assert abs(sum(event["usage"]["seconds"] for event in completed) - len(pcm) / 2 / 16_000) < 0.002
    job = completed_session(user)
    assert word_error_rate(speech.text, job.text) <= 0.15, job.text  # two cuts may fall inside words
    assert abs(float(job.audio_duration_seconds) - len(pcm) / 2 / 16_000) < 0.002
    assert wallet_audit().mismatches == []


def completed_session(user) -> Transcription:
    deadline = time.monotonic() + 60
    while (job := Transcription.objects.get(user=user)).status != Transcription.Status.COMPLETED:
        assert time.monotonic() < deadline, job.status
        time.sleep(0.2)
    return job


def test_a_session_without_client_events_is_closed_after_the_idle_time(server):
    user = UserFactory()
    key = api_key_create(user=user, name="live").key

    async def scenario():
        began = time.monotonic()  # before the last client event (session.update), whatever the load
        ws, _, _ = await start(server, key)
        events = await all_events(ws, timeout=30)
        return events, time.monotonic() - began

    events, waited = asyncio.run(scenario())

    assert [(event["type"], event["error"]["code"]) for event in events] == [("error", "idle_timeout")]
    assert 3 <= waited <= 15
    assert completed_session(user).billable_minutes == Decimal("0.00")
    assert wallet_audit().mismatches == []


def test_a_session_ends_at_its_longest_audio_and_charges_exactly_that(server):
    user = UserFactory()
    key = api_key_create(user=user, name="live").key
    pcm = b"".join(pcm_of(utterance.path, silence_after=1.0) for utterance in librivox() * 3)  # 75 s

    async def scenario():
        ws, _, _ = await start(server, key)
        with contextlib.suppress(websockets.ConnectionClosed):  # the server may close it while we send
            await stream(ws, pcm)
        return await all_events(ws)

    events = asyncio.run(scenario())

    errors = [event["error"]["code"] for event in events if event["type"] == "error"]
    assert errors == ["session_max_duration"]
    job = completed_session(user)
    assert (job.audio_duration_seconds, job.billable_minutes) == (Decimal("60.000"), Decimal("1.00"))
    wallet = Wallet.objects.get(user=user)
    assert (wallet.held, wallet.demo_minutes_held, wallet.demo_minutes_remaining) == (0, 0, Decimal("9.00"))
    assert wallet_audit().mismatches == []


def test_a_session_ends_at_its_next_heartbeat_once_its_api_key_is_revoked(tmp_path):
    """A revoked key is refused at once by every request; a session it opened must not go on holding
    and spending its owner's minutes either (a leaked key, revoked, with a session still open)."""
    user = UserFactory()
    issued = api_key_create(user=user, name="leaked")
    said = librivox()[1]
    server = LiveServer(tmp_path / "server.log", TRANSCRIPTION_ENGINE="local", TRANSCRIPTION_HEARTBEAT_SECONDS="1")
    try:

        async def scenario():
            ws, _, _ = await start(server, issued.key)
            await stream(ws, pcm_of(said.path, silence_after=1.0))
            before = await events_until(ws, COMPLETED)
            await asyncio.to_thread(api_key_revoke, api_key=issued.api_key)
            revoked = time.monotonic()
            with contextlib.suppress(websockets.ConnectionClosed):  # 20 s more, at real time, as a leak would
                await stream(ws, b"\0\0" * 16_000 * 20, pace=1.0)
            return before + await all_events(ws, timeout=30), time.monotonic() - revoked

        events, went_on = asyncio.run(scenario())
    finally:
        server.stop()

    errors = [event["error"]["code"] for event in events if event["type"] == "error"]
    assert errors == ["invalid_api_key"], server.log
    assert went_on < 10  # ended within a beat or two, not after the 20 s sent
    job = completed_session(user)
    assert word_error_rate(said.text, job.text) <= 0.1, job.text
    assert job.audio_duration_seconds < Decimal(said_seconds(said) + went_on + 2)
    wallet = Wallet.objects.get(user=user)
    assert (wallet.held, wallet.demo_minutes_held) == (0, 0)
    assert wallet_audit().mismatches == []


def said_seconds(utterance) -> float:
    return len(pcm_of(utterance.path)) / 2 / 16_000
