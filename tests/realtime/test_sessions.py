"""Live sessions end to end: the `websockets` client against `manage.py runserver` (the embedded
default, serving ASGI), on the offline engine, with real speech."""

import asyncio
import base64
import contextlib
import json
import re
import subprocess
import time
from datetime import timedelta
from decimal import Decimal

import pytest
import requests
import websockets
from django.conf import settings
from django.utils import timezone

from accounts.services import api_key_create, user_issue_tokens
from tests.conftest import client_for
from tests.factories import UserFactory
from tests.openai_api.live import LiveServer, live_server
from tests.realtime.client import (
    SERVER_VAD,
    all_events,
    connect,
    events_until,
    pcm_of,
    receive,
    send,
    start,
    stream,
)
from tests.speech import joined, librivox, word_error_rate
from tests.transcriptions.test_redaction import CALL
from tests.wallet.conftest import fund
from transcriptions.live import live_session_reap
from transcriptions.models import Transcription
from wallet.audit import wallet_audit
from wallet.models import Hold, Transaction, Wallet
from wallet.services import billable_minutes

pytestmark = pytest.mark.django_db(transaction=True)
D = Decimal
COMPLETED = "conversation.item.input_audio_transcription.completed"


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker, tmp_path_factory):
    with live_server(
        tmp_path_factory,
        django_db_blocker,
        TRANSCRIPTION_ENGINE="local",
        CORS_ALLOWED_ORIGINS="https://app.example.com",
    ) as running:
        yield running


@pytest.fixture
def user():
    return UserFactory()


@pytest.fixture
def key(user) -> str:
    return api_key_create(user=user, name="live").key


@pytest.fixture(scope="module")
def librivox_wav(tmp_path_factory):
    return joined(tmp_path_factory.mktemp("speech") / "librivox.wav", pause_seconds=1.0)


def session_record(user) -> Transcription:
    return Transcription.objects.get(user=user, source=Transcription.Source.REALTIME)


def wait_completed(user, seconds: float = 60) -> Transcription:
    deadline = time.monotonic() + seconds
    while (job := session_record(user)).status != Transcription.Status.COMPLETED:
        assert time.monotonic() < deadline, f"session still {job.status}"
        time.sleep(0.2)
    return job


def assert_ledger_clean(user) -> None:
    wallet = Wallet.objects.get(user=user)
    assert (wallet.held, wallet.demo_minutes_held) == (D("0.00"), D("0.00"))
    assert not Hold.objects.filter(wallet=wallet, status=Hold.Status.HELD).exists()
    assert wallet_audit().mismatches == []


# --- Speech --------------------------------------------------------------------------------------


def test_speech_streamed_at_real_time_comes_back_utterance_by_utterance(server, user, key, librivox_wav):
    """24 kHz PCM16 (OpenAI's default) at real time, server VAD: five sentences, five items."""
    pcm = pcm_of(librivox_wav.path, rate=24_000, silence_after=1.5)

    async def scenario():
        ws, created, updated = await start(server, key, rate=24_000, language="en")
        await stream(ws, pcm, rate=24_000, pace=1.0)
        events = await events_until(ws, COMPLETED, count=5, timeout=60)
        await ws.close()
        return created, updated, events

    created, updated, events = asyncio.run(scenario())

    assert created["type"] == "session.created" and created["session"]["type"] == "transcription"
    assert updated["session"]["audio"]["input"]["format"] == {"type": "audio/pcm", "rate": 24_000}
    kinds = [event["type"] for event in events]
    assert "error" not in kinds
    items = list(dict.fromkeys(event["item_id"] for event in events if "item_id" in event))
    assert len(items) == 5
    for item in items:  # each utterance's events, in the protocol's order
        of_item = [event["type"].rsplit(".", 1)[-1] for event in events if event.get("item_id") == item]
        assert of_item == ["speech_started", "speech_stopped", "committed", "delta", "completed"], of_item
    transcripts = [event["transcript"] for event in events if event["type"] == COMPLETED]
    assert word_error_rate(librivox_wav.text, " ".join(transcripts)) <= 0.10, transcripts
    starts = [event["audio_start_ms"] for event in events if event["type"].endswith("speech_started")]
    assert starts == sorted(starts) and starts[-1] > 20_000

    job = wait_completed(user)
    assert word_error_rate(librivox_wav.text, job.text) <= 0.10
    assert [segment["start"] for segment in job.segments] == sorted(segment["start"] for segment in job.segments)
    assert job.segments[-1]["end"] > 20
    # Billed per second of audio received: every second sent, nothing for the time connected.
    seconds = len(pcm) / 2 / 24_000
    assert abs(float(job.audio_duration_seconds) - seconds) < 0.05
    assert job.billable_minutes == (D(int(seconds) + 1) / 60).quantize(D("0.01"), rounding="ROUND_UP")
    assert (job.demo_minutes_used, job.amount) == (job.billable_minutes, D("0.00"))
    assert_ledger_clean(user)


def test_a_pause_shorter_than_the_silence_duration_keeps_the_utterance_whole(server, user, key):
    """The turn is reported paused after 200 ms of quiet and its text worked out ahead; the speaker
    goes on, so that text is thrown away and the whole utterance transcribed when it really ends."""
    first, second = librivox()[1], librivox()[4]
    pcm = pcm_of(first.path, silence_after=0.4) + pcm_of(second.path, silence_after=1.5)
    turns = {**SERVER_VAD, "silence_duration_ms": 900}

    async def scenario():
        ws, _, _ = await start(server, key, turn_detection=turns, language="en")
        await stream(ws, pcm, pace=1.0)
        events = await events_until(ws, COMPLETED)
        await ws.close()
        return events

    events = asyncio.run(scenario())

    assert [event["type"] for event in events].count("input_audio_buffer.committed") == 1
    [completed] = [event for event in events if event["type"] == COMPLETED]
    assert word_error_rate(f"{first.text} {second.text}", completed["transcript"]) <= 0.10, completed["transcript"]
    assert word_error_rate(f"{first.text} {second.text}", wait_completed(user).text) <= 0.10


def test_a_connection_dropped_after_a_pause_mid_utterance_transcribes_all_of_it_not_the_text_worked_out_ahead(
    server, user, key
):
    first, second = librivox()[1], librivox()[4]
    cut_off = pcm_of(second.path)[: 16_000 * 2 * 2]  # 2 s into the second sentence: mid-word
    pcm = pcm_of(first.path, silence_after=0.4) + cut_off

    async def scenario():
        ws, _, _ = await start(server, key, turn_detection={**SERVER_VAD, "silence_duration_ms": 900}, language="en")
        await stream(ws, pcm, pace=1.0)
        await asyncio.sleep(0.3)  # the pause's text is worked out by now
        await ws.close()

    asyncio.run(scenario())

    text = wait_completed(user).text.lower()
    assert word_error_rate(first.text, text.split(".")[0]) <= 0.10, text
    assert "might even" in text  # the second sentence's start, which the pause's text does not have


def test_manual_commits_transcribe_exactly_what_was_committed(server, user, key):
    first, second = librivox()[1], librivox()[2]

    async def scenario():
        ws, _, updated = await start(server, key, turn_detection=None)
        await stream(ws, pcm_of(first.path))
        await send(ws, "input_audio_buffer.commit")
        await stream(ws, pcm_of(second.path))
        await send(ws, "input_audio_buffer.commit")
        events = await events_until(ws, COMPLETED, count=2)
        await stream(ws, pcm_of(first.path))  # never committed: neither transcribed nor paid for
        await ws.close()
        return updated, events

    updated, events = asyncio.run(scenario())

    assert updated["session"]["audio"]["input"]["turn_detection"] is None
    kinds = [event["type"] for event in events]
    assert not [kind for kind in kinds if "speech_" in kind]  # no server VAD
    assert kinds.count("input_audio_buffer.committed") == 2
    committed = [event for event in events if event["type"] == "input_audio_buffer.committed"]
    assert committed[1]["previous_item_id"] == committed[0]["item_id"]
    completed = [event for event in events if event["type"] == COMPLETED]
    assert [event["item_id"] for event in completed] == [event["item_id"] for event in committed]
    assert word_error_rate(first.text, completed[0]["transcript"]) <= 0.10
    assert word_error_rate(second.text, completed[1]["transcript"]) <= 0.10
    job = wait_completed(user)
    committed_seconds = sum(event["usage"]["seconds"] for event in completed)
    assert abs(float(job.audio_duration_seconds) - committed_seconds) < 0.01
    assert_ledger_clean(user)


def test_a_jwt_works_as_an_api_key_does(server, user):
    access = user_issue_tokens(user=user)["access"]

    async def scenario():
        ws, created, _ = await start(server, access, turn_detection=None)
        await ws.close()
        return created

    assert asyncio.run(scenario())["type"] == "session.created"
    assert wait_completed(user).billable_minutes == D("0.00")
    assert not Transaction.objects.filter(wallet__user=user, type=Transaction.Type.DEBIT).exists()
    assert_ledger_clean(user)


def test_a_session_that_redacts_never_sends_or_keeps_the_phone_number_or_the_address(server, user, key, tmp_path):
    said, speech = tmp_path / "call-22k.wav", tmp_path / "call.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "130", "-w", str(said), CALL], check=True)
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-i", str(said), "-ar", "16000", "-ac", "1", str(speech)], check=True
    )
    redact = {"redact_pii": True, "redact_pii_policies": ["phone_number", "email_address"]}

    async def scenario():
        ws, _, _ = await start(server, key, turn_detection=None)  # one utterance: no cut inside the number
        await send(
            ws,
            "session.update",
            session={"audio": {"input": {"transcription": {"redact_pii": True, "redact_pii_policies": ["passport"]}}}},
        )
        unknown = await receive(ws)
        await send(ws, "session.update", session={"audio": {"input": {"transcription": {"language": "en", **redact}}}})
        updated = await receive(ws)
        await stream(ws, pcm_of(speech))
        await send(ws, "input_audio_buffer.commit")
        events = await events_until(ws, COMPLETED)
        await send(ws, "session.update", session={"audio": {"input": {"transcription": {"redact_pii": False}}}})
        too_late = await receive(ws)
        await ws.close()
        return unknown, updated, events, too_late

    unknown, updated, events, too_late = asyncio.run(scenario())

    assert (unknown["error"]["code"], unknown["error"]["param"]) == (
        "unsupported_option",
        "session.audio.input.transcription.redact_pii",
    )
    assert "passport" in unknown["error"]["message"]
    assert updated["session"]["audio"]["input"]["transcription"]["redact_pii_policies"] == [
        "email_address",
        "phone_number",
    ]
    sent = " ".join(event.get("delta") or event.get("transcript") or "" for event in events)
    assert "[PHONE_NUMBER]" in sent and "[EMAIL_ADDRESS]" in sent
    assert not re.search(r"\d|yahoo", sent, re.IGNORECASE), sent
    assert too_late["error"]["code"] == "unsupported_option"
    job = wait_completed(user)
    assert (job.redact_pii, job.redact_pii_policies, job.redact_pii_sub) == (
        True,
        ["email_address", "phone_number"],
        "entity_name",
    )
    assert job.redactions == {"email_address": 1, "phone_number": 1}
    stored = job.text + " ".join(segment["text"] for segment in job.segments)
    assert "[PHONE_NUMBER]" in stored and not re.search(r"\d|yahoo", stored, re.IGNORECASE), stored
    assert_ledger_clean(user)


# --- Handshake -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "credential",
    [None, "sk-unknown-key-0000000000000000000000000000000000", "not-a-token", "Basic abc"],
)
def test_a_handshake_without_a_valid_credential_is_refused(server, user, credential):
    async def scenario():
        with pytest.raises(websockets.InvalidStatus) as refused:
            await connect(server, credential)
        return refused.value.response.status_code

    assert asyncio.run(scenario()) == 403
    assert not Transcription.objects.filter(source=Transcription.Source.REALTIME).exists()


def test_a_revoked_key_is_refused(server, user):
    issued = api_key_create(user=user, name="gone")
    issued.api_key.revoked_at = issued.api_key.created_at
    issued.api_key.save()

    async def scenario():
        with pytest.raises(websockets.InvalidStatus):
            await connect(server, issued.key)

    asyncio.run(scenario())


def test_only_transcription_sessions_are_served(server, key):
    async def scenario():
        for path in ("/v1/realtime", "/v1/realtime?intent=conversation", "/v1/other"):
            with pytest.raises(websockets.InvalidStatus):
                await connect(server, key, url=server.url.replace("http", "ws") + path)

    asyncio.run(scenario())


def test_origin_is_checked_only_when_a_browser_sends_one(server, user, key):
    async def scenario():
        with pytest.raises(websockets.InvalidStatus):
            await connect(server, key, headers={"Origin": "https://evil.example.net"})
        allowed = await connect(server, key, headers={"Origin": "https://app.example.com"})
        same_site = await connect(server, key, headers={"Origin": server.url})
        without = await connect(server, key)  # servers and SDKs send none
        for ws in (allowed, same_site, without):
            assert (await receive(ws))["type"] == "session.created"
            await ws.close()

    asyncio.run(scenario())


# --- Bad input: an error event, and the session goes on --------------------------------------------


def test_every_bad_input_gets_an_error_event_with_a_clear_code_and_the_session_goes_on(server, user, key):
    speech = pcm_of(librivox()[1].path)

    async def scenario():
        ws = await connect(server, key)
        await receive(ws)  # session.created
        answers = {}
        await send(ws, "input_audio_buffer.append", audio=base64.b64encode(speech[:3200]).decode(), event_id="e1")
        answers["audio before session.update"] = await receive(ws)
        rate_update = {"type": "transcription", "audio": {"input": {"format": {"type": "audio/pcm", "rate": 44_100}}}}
        await send(ws, "session.update", session=rate_update)
        answers["wrong sample rate"] = await receive(ws)
        pcm_16k = {"audio": {"input": {"format": {"type": "audio/pcm", "rate": 16_000}}}}
        await send(ws, "session.update", session=pcm_16k)
        assert (await receive(ws))["type"] == "session.updated"
        await send(ws, "response.create")
        answers["unknown event"] = await receive(ws)
        await send(ws, "input_audio_buffer.append", audio="this is not base64!!")
        answers["bad base64"] = await receive(ws)
        await ws.send("{not json")
        answers["not JSON"] = await receive(ws)
        await ws.send(json.dumps({"type": "input_audio_buffer.append", "audio": "A" * (15 * 1024 * 1024 + 4)}))
        answers["frame over 15 MiB"] = await receive(ws)
        await ws.send(b"\x00\x01")
        answers["binary frame"] = await receive(ws)
        await send(ws, "input_audio_buffer.commit")
        answers["empty commit"] = await receive(ws)
        bad_model = {"audio": {"input": {"transcription": {"model": "no-such-model"}}}}
        await send(ws, "session.update", session=bad_model)
        answers["unknown model"] = await receive(ws)
        # ... and the session still transcribes.
        await stream(ws, speech + b"\0\0" * 16_000)
        events = await events_until(ws, COMPLETED)
        await ws.close()
        return answers, events

    answers, events = asyncio.run(scenario())

    codes = {name: (event["type"], event["error"]["code"]) for name, event in answers.items()}
    assert codes == {
        "audio before session.update": ("error", "session_not_configured"),
        "wrong sample rate": ("error", "unsupported_sample_rate"),
        "unknown event": ("error", "unknown_event"),
        "bad base64": ("error", "invalid_base64"),
        "not JSON": ("error", "invalid_json"),
        "frame over 15 MiB": ("error", "frame_too_large"),
        "binary frame": ("error", "unsupported_frame"),
        "empty commit": ("error", "input_audio_buffer_commit_empty"),
        "unknown model": ("error", "model_not_found"),
    }
    assert answers["audio before session.update"]["error"]["event_id"] == "e1"
    assert answers["wrong sample rate"]["error"]["param"] == "session.audio.input.format.rate"
    assert all(event["error"]["message"] for event in answers.values())
    assert word_error_rate(librivox()[1].text, events[-1]["transcript"]) <= 0.10
    job = wait_completed(user)
    assert abs(float(job.audio_duration_seconds) - (len(speech) / 32_000 + 1)) < 0.05  # none of the bad audio
    assert_ledger_clean(user)


# --- Money ---------------------------------------------------------------------------------------


def test_when_the_next_minute_cannot_be_held_the_session_ends_with_insufficient_quota(server, user, key):
    """₹1.00 and no demo minutes: the first minute is held, the second cannot be: the session
    transcribes what the minute covered, charges exactly that, and closes."""
    fund(user, balance=D("1.00"), demo_minutes=D("0.00"))
    pcm = b"".join(pcm_of(utterance.path, silence_after=1.0) for utterance in librivox() * 3)  # 75 s
    assert len(pcm) / 32_000 > 70

    async def scenario():
        ws, _, _ = await start(server, key)
        with contextlib.suppress(websockets.ConnectionClosed):  # the server may close it first
            await stream(ws, pcm)
        return await all_events(ws)

    events = asyncio.run(scenario())

    errors = [event for event in events if event["type"] == "error"]
    assert [error["error"]["code"] for error in errors] == ["insufficient_quota"]
    assert errors[0]["error"]["type"] == "insufficient_quota"
    assert events[-1]["type"] == COMPLETED  # what the minute covered is transcribed before the close
    job = wait_completed(user)
    assert job.audio_duration_seconds == D("60.000")
    assert (job.billable_minutes, job.amount, job.demo_minutes_used) == (D("1.00"), D("1.00"), D("0.00"))
    assert job.text
    wallet = Wallet.objects.get(user=user)
    assert wallet.balance == D("0.00")
    hold = Hold.objects.get(subject_id=str(job.pk))
    assert (hold.status, hold.amount) == (Hold.Status.CAPTURED, D("1.00"))  # never more than was there
    assert_ledger_clean(user)


def test_a_user_who_cannot_pay_a_minute_is_told_so_at_the_start(server, user, key):
    fund(user, balance=D("0.00"), demo_minutes=D("0.50"))
    logged_before = len(server.log)

    async def scenario():
        ws = await connect(server, key)
        return await all_events(ws), ws.close_code

    events, close_code = asyncio.run(scenario())

    assert [(event["type"], event["error"]["code"]) for event in events] == [("error", "insufficient_quota")]
    assert close_code == 1000  # a normal close: the error said why (never 1011, an internal error)
    assert "Traceback" not in server.log[logged_before:]
    assert not Transcription.objects.filter(user=user).exists()
    assert_ledger_clean(user)


def test_a_connection_dropped_mid_utterance_keeps_what_was_said_and_charges_just_that(server, user, key):
    utterance = librivox()[0]  # 7 s
    pcm = pcm_of(utterance.path)[: 16_000 * 2 * 4]  # 4 s of it, then the line goes

    async def scenario():
        ws, _, _ = await start(server, key)
        await stream(ws, pcm, pace=0.25)
        events = await events_until(ws, "input_audio_buffer.speech_started")
        ws.transport.abort()  # no close frame: a dropped connection
        return events

    asyncio.run(scenario())

    job = wait_completed(user)
    assert job.audio_duration_seconds == D("4.000")
    assert job.billable_minutes == D("0.07")  # 4 s: 4/60 rounded up
    assert word_error_rate(" ".join(utterance.text.split()[:9]), job.text) <= 0.35, job.text
    assert_ledger_clean(user)


def test_sessions_are_listed_and_downloadable_like_any_transcription(server, user, key):
    async def scenario():
        ws, created, _ = await start(server, key)
        await stream(ws, pcm_of(librivox()[1].path, silence_after=1.0))
        await events_until(ws, COMPLETED)
        await ws.close()
        return created

    created = asyncio.run(scenario())
    job = wait_completed(user)
    assert created["session"]["id"] == f"sess_{job.pk.hex}"

    client = client_for(user)
    listed = client.get("/api/transcriptions/").json()["results"]
    assert [(item["id"], item["source"], item["status"]) for item in listed] == [(str(job.pk), "realtime", "completed")]
    download = client.get(f"/api/transcriptions/{job.pk}/download/")
    assert download.status_code == 200 and "young man" in download.content.decode().lower()
    assert client.delete(f"/api/transcriptions/{job.pk}/").status_code == 204


def test_a_session_whose_server_process_is_killed_is_settled_by_the_reaper_for_what_it_transcribed(user, key, tmp_path):
    said = librivox()[1]
    doomed = LiveServer(tmp_path / "doomed.log", TRANSCRIPTION_ENGINE="local")
    try:

        async def scenario():
            ws, _, _ = await start(doomed, key)
            await stream(ws, pcm_of(said.path, silence_after=1.0))
            await events_until(ws, COMPLETED)
            await stream(ws, pcm_of(librivox()[0].path)[: 16_000 * 2 * 3])  # mid-utterance...
            doomed.process.kill()  # ... the process dies (SIGKILL: nothing runs after it)
            doomed.process.wait()

        asyncio.run(scenario())
    finally:
        doomed.stop()

    job = session_record(user)
    assert job.status == Transcription.Status.PROCESSING
    assert live_session_reap() == []  # its last beat is recent: not yet
    later = timezone.now() + timedelta(seconds=settings.TRANSCRIPTION_HEARTBEAT_TIMEOUT_SECONDS + 1)

    assert live_session_reap(now=later) == [job.pk]

    job.refresh_from_db()
    assert job.status == Transcription.Status.COMPLETED
    assert word_error_rate(said.text, job.text) <= 0.10, job.text
    # Charged for the transcribed utterance only, not for the audio the dead process never transcribed.
    assert D("1.5") < job.audio_duration_seconds <= D(len(pcm_of(said.path)) / 32_000 + 0.5)
    assert job.billable_minutes == billable_minutes(job.audio_duration_seconds)
    assert Transaction.objects.get(subject_id=str(job.pk)).minutes == job.billable_minutes
    assert live_session_reap(now=later) == []  # once
    assert_ledger_clean(user)


# --- Browsers: a one-use secret as a subprotocol ---------------------------------------------------


def test_a_browser_opens_one_session_with_a_one_use_secret_passed_as_a_subprotocol(server, user, key):
    answer = requests.post(
        f"{server.url}/v1/realtime/client_secrets", json={}, headers={"Authorization": f"Bearer {key}"}, timeout=30
    )
    assert answer.status_code == 200, answer.text
    secret = answer.json()
    assert secret["value"].startswith("ek_")
    assert 55 <= secret["expires_at"] - time.time() <= 61
    protocols = ["realtime", f"openai-insecure-api-key.{secret['value']}"]

    async def scenario():
        ws = await connect(server, None, subprotocols=protocols, headers={"Origin": server.url})
        assert ws.subprotocol == "realtime"
        created = await receive(ws)
        await ws.close()
        with pytest.raises(websockets.InvalidStatus):  # used once already
            await connect(server, None, subprotocols=protocols)
        with pytest.raises(websockets.InvalidStatus):  # never issued
            await connect(server, None, subprotocols=["realtime", "openai-insecure-api-key.ek_forged"])
        return created

    assert asyncio.run(scenario())["type"] == "session.created"
    assert wait_completed(user).user_id == user.pk


def test_a_browser_whose_secret_carries_the_settings_streams_at_once(server, user, key):
    """As OpenAI's browser clients do: the server asks for the secret with the session's settings,
    and the browser streams without a session.update of its own."""
    said = librivox()[1]
    settings = {"type": "transcription", "audio": {"input": {"format": {"type": "audio/pcm", "rate": 16000}}}}
    answer = requests.post(
        f"{server.url}/v1/realtime/client_secrets",
        json={"session": settings},
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )
    protocols = ["realtime", f"openai-insecure-api-key.{answer.json()['value']}"]

    async def scenario():
        ws = await connect(server, None, subprotocols=protocols, headers={"Origin": server.url})
        opening = [await receive(ws), await receive(ws)]
        await stream(ws, pcm_of(said.path, silence_after=1.0))
        events = await events_until(ws, COMPLETED)
        await ws.close()
        return opening, events

    opening, events = asyncio.run(scenario())

    assert [event["type"] for event in opening] == ["session.created", "session.updated"]
    assert opening[1]["session"]["audio"]["input"]["format"]["rate"] == 16000
    assert not [event for event in events if event["type"] == "error"]
    assert word_error_rate(said.text, events[-1]["transcript"]) <= 0.10


def test_an_api_key_works_as_a_subprotocol_too(server, user, key):
    async def scenario():
        ws = await connect(server, None, subprotocols=["realtime", f"openai-insecure-api-key.{key}"])
        created = await receive(ws)
        await ws.close()
        return created

    assert asyncio.run(scenario())["type"] == "session.created"
