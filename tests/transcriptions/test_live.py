"""Live sessions' money and record (transcriptions.live), without a socket: the services the
WebSocket adapter calls, on the real database; the races on MariaDB."""

from datetime import timedelta
from decimal import Decimal
from functools import partial

import pytest
from django.utils import timezone

from tests.wallet.conftest import fund
from tests.wallet.test_races import run_together
from transcriptions.engines import Segment
from transcriptions.exceptions import UnsupportedModel
from transcriptions.live import (
    live_session_cover,
    live_session_finish,
    live_session_heartbeat,
    live_session_reap,
    live_session_record,
    live_session_start,
)
from transcriptions.models import Transcription
from wallet.audit import wallet_audit
from wallet.exceptions import InsufficientBalance
from wallet.models import Hold, Transaction, Wallet
from webhooks.models import Delivery
from webhooks.services import webhook_endpoint_create

D = Decimal


@pytest.fixture(autouse=True)
def ledger_stays_consistent(db):
    yield
    assert wallet_audit().mismatches == []


@pytest.mark.django_db
def test_a_session_holds_its_first_minute_and_one_more_each_time_the_audio_passes_the_hold(user):
    session = live_session_start(user=user)

    assert session.covered_seconds == 60
    assert live_session_cover(transcription_id=session.transcription_id, seconds=59.9) == 60
    assert live_session_cover(transcription_id=session.transcription_id, seconds=60.1) == 120
    hold = Hold.objects.get(subject_id=str(session.transcription_id))
    assert (hold.billable_minutes, hold.demo_minutes, hold.amount) == (D("2.00"), D("2.00"), D("0.00"))
    job = Transcription.objects.get(pk=session.transcription_id)
    assert (job.status, job.source, job.engine) == ("processing", "realtime", "local")


@pytest.mark.django_db
def test_the_end_charges_the_billable_minutes_of_the_audio_demo_first_and_tells_the_webhooks(user):
    fund(user, balance=D("5.00"), demo_minutes=D("0.50"))
    webhook_endpoint_create(user=user, url="http://127.0.0.1:9/in", events=["transcription.completed"])
    session = live_session_start(user=user)
    live_session_cover(transcription_id=session.transcription_id, seconds=61)
    live_session_record(
        transcription_id=session.transcription_id,
        segments=[Segment(start=1.0, end=2.5, text="Hello there.")],
        billed_seconds=D("30.000"),
    )

    assert live_session_finish(transcription_id=session.transcription_id, billed_seconds=D("61.2"))

    job = Transcription.objects.get(pk=session.transcription_id)
    assert (job.status, job.text, job.audio_duration_seconds) == ("completed", "Hello there.", D("61.200"))
    assert (job.billable_minutes, job.demo_minutes_used, job.charged_minutes, job.amount) == (
        D("1.04"),  # 62 whole seconds / 60, rounded up
        D("0.50"),
        D("0.54"),
        D("0.54"),
    )
    wallet = Wallet.objects.get(user=user)
    assert (wallet.balance, wallet.held, wallet.demo_minutes_remaining, wallet.demo_minutes_held) == (
        D("4.46"),
        D("0.00"),
        D("0.00"),
        D("0.00"),
    )
    delivery = Delivery.objects.get(user=user, event_type="transcription.completed")
    assert delivery.payload["data"]["id"] == str(job.pk) and delivery.payload["data"]["source"] == "realtime"
    assert not live_session_finish(transcription_id=session.transcription_id, billed_seconds=D("61.2"))  # once


@pytest.mark.django_db
def test_a_session_with_no_audio_leaves_no_ledger_line(user):
    session = live_session_start(user=user)

    live_session_finish(transcription_id=session.transcription_id, billed_seconds=D("0"))

    assert Transaction.objects.filter(subject_id=str(session.transcription_id)).count() == 0
    assert Hold.objects.get(subject_id=str(session.transcription_id)).status == Hold.Status.RELEASED


@pytest.mark.django_db
def test_nothing_is_created_when_the_first_minute_cannot_be_held_or_the_model_is_unknown(user):
    with pytest.raises(UnsupportedModel):
        live_session_start(user=user, model="gpt-nothing")
    fund(user, balance=D("0.99"), demo_minutes=D("0.00"))
    with pytest.raises(InsufficientBalance):
        live_session_start(user=user)

    assert not Transcription.objects.filter(user=user).exists()
    assert not Hold.objects.exists()


@pytest.mark.django_db
def test_the_reaper_settles_only_sessions_whose_heartbeat_stopped_from_what_they_recorded(user, settings):
    beating = live_session_start(user=user)
    silent = live_session_start(user=user)
    live_session_record(
        transcription_id=silent.transcription_id,
        segments=[Segment(start=0.0, end=4.0, text="Said before the crash.")],
        billed_seconds=D("5.000"),
    )
    later = timezone.now() + timedelta(seconds=settings.TRANSCRIPTION_HEARTBEAT_TIMEOUT_SECONDS + 1)
    assert live_session_heartbeat(transcription_id=beating.transcription_id)
    Transcription.objects.filter(pk=beating.transcription_id).update(heartbeat_at=later)  # its process beats on

    assert live_session_reap(now=later) == [silent.transcription_id]

    job = Transcription.objects.get(pk=silent.transcription_id)
    assert (job.status, job.text, job.billable_minutes) == ("completed", "Said before the crash.", D("0.09"))
    assert Transcription.objects.get(pk=beating.transcription_id).status == "processing"
    assert not live_session_heartbeat(transcription_id=silent.transcription_id)  # its process would stop


@pytest.mark.mysql
@pytest.mark.django_db(transaction=True)
def test_sessions_of_one_wallet_extending_at_once_never_hold_more_than_it_has(user):
    fund(user, balance=D("4.00"), demo_minutes=D("0.00"))
    sessions = [live_session_start(user=user) for _ in range(3)]  # ₹3.00 held, ₹1.00 left

    outcomes = run_together(
        [partial(live_session_cover, transcription_id=s.transcription_id, seconds=61) for s in sessions]
    )

    assert sorted(type(outcome).__name__ for outcome in outcomes) == ["InsufficientBalance"] * 2 + ["int"]
    wallet = Wallet.objects.get(user=user)
    assert (wallet.balance, wallet.held) == (D("4.00"), D("4.00"))
