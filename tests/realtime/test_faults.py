"""A live session while MariaDB or Redis goes away under its server. The database: no hold stays
open, nothing is charged for audio that was not transcribed, and the ledger stays clean (MariaDB
only: SQLite is a file). Redis: sessions never need it, a key still opens one, and a browser's
one-use secret is neither issued nor redeemed while it is away."""

import asyncio
import contextlib
import time
from datetime import timedelta
from decimal import Decimal

import pytest
import requests
import websockets
from django.conf import settings
from django.utils import timezone

from accounts.services import api_key_create
from realtime.handshake import KEY_SUBPROTOCOL
from tests.factories import UserFactory
from tests.openai_api.live import LiveServer
from tests.production.faults import CuttableProxy
from tests.realtime.client import all_events, connect, events_until, pcm_of, start, stream
from tests.speech import librivox, word_error_rate
from tests.workers import database_url
from transcriptions.live import live_session_reap
from transcriptions.models import Transcription
from wallet.audit import wallet_audit
from wallet.models import Hold, Transaction
from wallet.services import billable_minutes

pytestmark = pytest.mark.django_db(transaction=True)
COMPLETED = "conversation.item.input_audio_transcription.completed"


@pytest.mark.mysql
def test_the_database_cut_mid_session_leaves_no_hold_open_and_charges_only_what_was_transcribed(
    database_proxy, tmp_path
):
    user = UserFactory()
    key = api_key_create(user=user, name="live").key
    said = librivox()[1]
    server = LiveServer(
        tmp_path / "server.log",
        TRANSCRIPTION_ENGINE="local",
        DATABASE_URL=database_url("127.0.0.1", database_proxy.port),
        TRANSCRIPTION_HEARTBEAT_SECONDS="1",
    )
    try:

        async def scenario():
            ws, _, _ = await start(server, key)
            await stream(ws, pcm_of(said.path, silence_after=1.0))
            await events_until(ws, COMPLETED)
            database_proxy.cut()
            with contextlib.suppress(websockets.ConnectionClosed):
                await stream(ws, b"".join(pcm_of(u.path, silence_after=1.0) for u in librivox()) * 3)
            events = await all_events(ws, timeout=60) if ws.state is websockets.State.OPEN else []
            await ws.close()
            return events

        asyncio.run(scenario())
        time.sleep(3)
        database_proxy.restore()
        deadline = time.monotonic() + 30
        while Transcription.objects.get(user=user).status == Transcription.Status.PROCESSING:
            if time.monotonic() > deadline:  # its settle failed with the database away: the reaper's turn
                later = timezone.now() + timedelta(seconds=settings.TRANSCRIPTION_HEARTBEAT_TIMEOUT_SECONDS + 1)
                live_session_reap(now=later)
                break
            time.sleep(0.5)
    finally:
        server.stop()

    job = Transcription.objects.get(user=user)
    assert job.status == Transcription.Status.COMPLETED
    assert word_error_rate(said.text, job.text.split(".")[0]) <= 0.10, job.text
    assert not Hold.objects.filter(status=Hold.Status.HELD).exists()
    debit = Transaction.objects.filter(subject_id=str(job.pk)).first()
    assert debit is None or debit.minutes == job.billable_minutes == billable_minutes(job.audio_duration_seconds)
    assert job.audio_duration_seconds <= Decimal("60.000")  # never past the minute held before the cut
    assert wallet_audit().mismatches == []


def test_redis_cut_mid_session_the_session_goes_on_keys_still_open_sessions_and_browser_secrets_wait(tmp_path):
    user = UserFactory()
    key = api_key_create(user=user, name="live").key
    first, second = librivox()[1], librivox()[4]
    proxy = CuttableProxy("127.0.0.1", 6379)
    server = LiveServer(
        tmp_path / "server.log", TRANSCRIPTION_ENGINE="local", REDIS_URL=f"redis://127.0.0.1:{proxy.port}/11"
    )
    secrets_url = f"{server.url}/v1/realtime/client_secrets"
    bearer = {"Authorization": f"Bearer {key}"}
    try:
        issued_before = requests.post(secrets_url, headers=bearer, json={}, timeout=10).json()["value"]

        async def scenario():
            ws, _, _ = await start(server, key, language="en")
            await stream(ws, pcm_of(first.path, silence_after=1.0))
            before = await events_until(ws, COMPLETED)
            proxy.cut()
            await stream(ws, pcm_of(second.path, silence_after=1.0))
            during = await events_until(ws, COMPLETED)
            other, _, _ = await start(server, key)  # a key is checked against the database
            await other.close()
            refused = []
            for value in (issued_before, "ek_" + "x" * 32):  # a secret cannot be redeemed unseen
                with pytest.raises(websockets.InvalidStatus) as handshake:
                    await connect(server, None, subprotocols=["realtime", KEY_SUBPROTOCOL + value])
                refused.append(handshake.value.response.status_code)
            await ws.close()
            return before, during, refused

        before, during, refused = asyncio.run(scenario())
        while_down = requests.post(secrets_url, headers=bearer, json={}, timeout=10)
        proxy.restore()
        after = requests.post(secrets_url, headers=bearer, json={}, timeout=10)
    finally:
        server.stop()
        proxy.close()

    transcripts = [event["transcript"] for event in before + during if event["type"] == COMPLETED]
    assert word_error_rate(first.text, transcripts[0]) <= 0.10 and word_error_rate(second.text, transcripts[1]) <= 0.10
    assert "error" not in [event["type"] for event in before + during]
    assert refused == [403, 403]
    assert while_down.status_code == 503
    assert while_down.json()["error"]["code"] == "service_unavailable"
    assert after.status_code == 200 and after.json()["value"].startswith("ek_")
    deadline = time.monotonic() + 30
    jobs = Transcription.objects.filter(user=user).order_by("created_at")
    while jobs.exclude(status=Transcription.Status.COMPLETED).exists():
        assert time.monotonic() < deadline, [job.status for job in jobs]
        time.sleep(0.2)
    assert len(jobs) == 2  # the second, opened with the key while Redis was away
    assert word_error_rate(f"{first.text} {second.text}", jobs[0].text) <= 0.10
    assert not Hold.objects.filter(status=Hold.Status.HELD).exists()
    assert wallet_audit().mismatches == []
