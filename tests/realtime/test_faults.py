"""A live session while MariaDB goes away under its server: no hold stays open, nothing is charged
for audio that was not transcribed, and the ledger stays clean (MariaDB only: SQLite is a file)."""

import asyncio
import contextlib
import time
from datetime import timedelta
from decimal import Decimal

import pytest
import websockets
from django.conf import settings
from django.db import connection
from django.utils import timezone

from accounts.services import api_key_create
from tests.factories import UserFactory
from tests.openai_api.live import LiveServer
from tests.production.faults import CuttableProxy
from tests.realtime.client import all_events, events_until, pcm_of, start, stream
from tests.speech import librivox, word_error_rate
from tests.workers import database_url
from transcriptions.live import live_session_reap
from transcriptions.models import Transcription
from wallet.audit import wallet_audit
from wallet.models import Hold, Transaction
from wallet.services import billable_minutes

pytestmark = [pytest.mark.mysql, pytest.mark.django_db(transaction=True)]
COMPLETED = "conversation.item.input_audio_transcription.completed"


@pytest.fixture
def database_proxy():
    if connection.vendor != "mysql":
        pytest.skip("only MySQL/MariaDB is reached over the network; SQLite is a local file")
    db = connection.settings_dict
    proxy = CuttableProxy(db["HOST"] or "127.0.0.1", int(db["PORT"] or 3306))
    yield proxy
    proxy.close()


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
