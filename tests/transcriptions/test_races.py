"""Concurrent requests: each thread is its own connection, as with a threaded server. Real row
locks need MySQL/MariaDB; SQLite allows one writer at a time, so there the requests go one by one
(the same logic, without the race)."""

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from decimal import Decimal

import pytest
from django.db import connection

from tests.conftest import client_for
from tests.transcriptions.conftest import set_wallet
from transcriptions.models import Transcription
from wallet.models import Hold, Transaction, Wallet

pytestmark = [pytest.mark.mysql, pytest.mark.django_db(transaction=True)]

URL = "/api/transcriptions/"


def post_all(requests: list[tuple]) -> list:
    """Send (client, body, headers) requests: all at once on MySQL, one after another on SQLite."""

    def send(client, body, headers, start: threading.Barrier | None):
        try:
            if start is not None:
                start.wait()
            return client.post(URL, body, format="json", headers=headers)
        finally:
            connection.close()  # this thread's own connection

    if connection.vendor == "sqlite":
        return [client.post(URL, body, format="json", headers=headers) for client, body, headers in requests]
    start = threading.Barrier(len(requests))
    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        futures = [pool.submit(send, client, body, headers, start) for client, body, headers in requests]
        return [future.result() for future in futures]


def test_twenty_concurrent_requests_on_a_wallet_that_affords_five_make_five_jobs(
    user, make_audio_file, ninety_seconds_wav, fake_openai
):
    set_wallet(user, balance=Decimal("7.50"), demo_minutes=Decimal("0"))  # 5 x 1.50 minutes at 1.00
    audio_files = [make_audio_file(user, ninety_seconds_wav) for _ in range(20)]
    clients = [client_for(user) for _ in audio_files]

    responses = post_all(
        [(client, {"audio_file": str(audio.pk)}, {}) for client, audio in zip(clients, audio_files, strict=True)]
    )

    assert Counter(response.status_code for response in responses) == {201: 5, 400: 15}
    assert {response.json()["code"] for response in responses if response.status_code == 400} == {
        "insufficient_balance"
    }
    wallet = Wallet.objects.get(user=user)
    assert (wallet.balance, wallet.held, wallet.total_spent) == (Decimal("0.00"), Decimal("0.00"), Decimal("7.50"))
    assert Transcription.objects.filter(status="completed").count() == Transcription.objects.count() == 5
    assert Transaction.objects.filter(type="debit").count() == 5


def test_the_same_idempotency_key_ten_times_at_once_makes_one_job(
    user, make_audio_file, ninety_seconds_wav, fake_openai
):
    audio = make_audio_file(user, ninety_seconds_wav)
    body, headers = {"audio_file": str(audio.pk)}, {"Idempotency-Key": "checkout-7"}

    responses = post_all([(client_for(user), body, headers) for _ in range(10)])

    assert Transcription.objects.count() == Hold.objects.count() == 1
    job = Transcription.objects.get()
    assert job.status == "completed"
    assert len(fake_openai.requests) == 1
    # The first is answered with the job; the others either replay it or, while it still runs, get 409.
    assert {response.status_code for response in responses} <= {201, 409}
    assert all(response.json()["id"] == str(job.pk) for response in responses if response.status_code == 201)
    assert sum(response.status_code == 201 and "Idempotent-Replayed" not in response for response in responses) == 1
    assert Transaction.objects.filter(subject_id=job.pk).count() == 1


def test_the_same_audio_posted_five_times_at_once_makes_one_job(user, make_audio_file, ninety_seconds_wav, fake_openai):
    if connection.vendor == "sqlite":
        pytest.skip("SQLite has no row locks; test_services covers the same rule one request at a time")
    slow = fake_openai.respond
    fake_openai.respond = lambda request: replace(slow(request), delay=1.0)  # the first job is still running
    audio = make_audio_file(user, ninety_seconds_wav)

    responses = post_all([(client_for(user), {"audio_file": str(audio.pk)}, {}) for _ in range(5)])

    assert Counter(response.status_code for response in responses) == {201: 1, 409: 4}
    first = next(response.json()["id"] for response in responses if response.status_code == 201)
    assert {
        (response.json()["code"], response.json()["transcription_id"])
        for response in responses
        if response.status_code == 409
    } == {("already_transcribed", first)}
    assert Transcription.objects.count() == Hold.objects.count() == 1
