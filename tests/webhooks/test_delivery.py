"""Sending events: signed, retried with backoff after failures for WEBHOOK_RETRY_HOURS, then
failed with the endpoint disabled; never redirected, bounded in time, at least once."""

import socket
import threading
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from tests.factories import UserFactory
from webhooks import services
from webhooks.models import Delivery, Endpoint
from webhooks.services import webhook_attempt, webhook_dispatch_due, webhook_event_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def endpoint(user, receiver):
    endpoint = Endpoint.objects.create(user=user, url=receiver.url, events=["transcription.completed"])
    receiver.secret = endpoint.secret
    return endpoint


def record(user: User, event_type="transcription.completed", **kwargs) -> None:
    webhook_event_record(user_id=user.pk, event_type=event_type, data={"id": "job-1"}, **kwargs)


def time_passes(delivery: Delivery) -> None:
    """The wait before its next attempt is over."""
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))


def test_an_event_is_sent_after_commit_signed_with_a_stable_id(
    user, endpoint, receiver, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        record(user)
    assert receiver.received == []  # nothing leaves before the transaction commits

    for callback in callbacks:
        callback()

    [request] = receiver.received
    delivery = Delivery.objects.get()
    assert request.verified["type"] == "transcription.completed"
    assert request.verified["data"] == {"id": "job-1"}
    assert request.headers["webhook-id"] == delivery.event_id
    assert request.headers["content-type"] == "application/json"
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 200)


def test_only_subscribed_enabled_endpoints_and_the_requests_own_url_get_it(
    user, endpoint, receiver, django_capture_on_commit_callbacks
):
    Endpoint.objects.create(user=user, url=receiver.url, events=["transcription.failed"])
    Endpoint.objects.create(user=user, url=receiver.url, events=["transcription.completed"], disabled_at=timezone.now())
    Endpoint.objects.create(user=UserFactory(), url=receiver.url, events=["transcription.completed"])

    with django_capture_on_commit_callbacks(execute=True):
        record(user, url=receiver.url + "&job=1")

    assert sorted(request.path for request in receiver.received) == [
        "/hooks?source=transcriber",
        "/hooks?source=transcriber&job=1",
    ]
    assert len({request.headers["webhook-id"] for request in receiver.received}) == 1  # one event, two URLs


def test_the_requests_own_url_is_signed_with_the_users_default_secret(
    user, receiver, api_client, django_capture_on_commit_callbacks
):
    receiver.secret = api_client.get("/api/webhooks/signing_secret/").json()["secret"]

    with django_capture_on_commit_callbacks(execute=True):
        record(user, url=receiver.url)

    assert receiver.received[0].verified["data"] == {"id": "job-1"}


def test_a_500_is_retried_after_a_wait_with_the_same_id_until_answered(
    user, endpoint, receiver, django_capture_on_commit_callbacks
):
    receiver.answers = [500, 502, 200]
    with django_capture_on_commit_callbacks(execute=True):
        record(user)
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
    assert timedelta(seconds=4) < delivery.next_attempt_at - timezone.now() <= timedelta(seconds=5)

    assert webhook_dispatch_due() == 0  # not due yet
    time_passes(delivery)
    assert webhook_dispatch_due() == 1
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.last_status_code, delivery.last_error) == (2, 502, "Answered 502.")
    assert timedelta(seconds=59) < delivery.next_attempt_at - timezone.now() <= timedelta(seconds=60)
    time_passes(delivery)
    webhook_dispatch_due()

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("delivered", 3, None)
    assert [request.verified is not None for request in receiver.received] == [True, True, True]
    assert len({request.headers["webhook-id"] for request in receiver.received}) == 1


def test_after_24_hours_of_failures_the_delivery_fails_and_the_endpoint_is_disabled(
    user, endpoint, receiver, django_capture_on_commit_callbacks
):
    receiver.answers = [500]
    with django_capture_on_commit_callbacks(execute=True):
        record(user)
    delivery = Delivery.objects.get()
    Delivery.objects.filter(pk=delivery.pk).update(created_at=timezone.now() - timedelta(hours=23, minutes=59))
    time_passes(delivery)

    webhook_dispatch_due()

    delivery.refresh_from_db()
    endpoint.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("failed", 2, None)
    assert endpoint.disabled_at is not None
    assert endpoint.disabled_reason == "Deliveries failed for 24 hours; the last: Answered 500."
    with django_capture_on_commit_callbacks(execute=True):
        record(user)
    assert Delivery.objects.count() == 1  # nothing more is sent to it
    assert len(receiver.received) == 2


def test_the_waits_grow_and_stop_within_24_hours(settings):
    waits = services.RETRY_DELAYS_SECONDS
    assert list(waits) == sorted(waits)
    assert sum(waits) < settings.WEBHOOK_RETRY_HOURS * 3600 < sum(waits) + waits[-1] * 2


def test_a_redirect_is_not_followed(user, endpoint, receiver, django_capture_on_commit_callbacks):
    with type(receiver)() as elsewhere:
        receiver.answers, receiver.location = [302], elsewhere.url
        with django_capture_on_commit_callbacks(execute=True):
            record(user)

        assert elsewhere.received == []
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.last_status_code) == ("pending", 302)
    assert delivery.last_error == "Answered 302; redirects are not followed."


def test_a_slow_receiver_times_out(user, endpoint, receiver, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(services, "TIMEOUT_SECONDS", 0.3)
    receiver.delay = 1.0

    with django_capture_on_commit_callbacks(execute=True):
        record(user)

    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.last_status_code) == ("pending", None)
    assert delivery.last_error == "No answer within 0.3 s."


def test_a_name_that_turns_private_after_registration_is_not_contacted(
    user, endpoint, receiver, settings, monkeypatch, django_capture_on_commit_callbacks
):
    """DNS rebinding: the address is checked again before each attempt, and the attempt connects to it."""
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    Endpoint.objects.filter(pk=endpoint.pk).update(url="http://hooks.example.com/")
    monkeypatch.setattr(
        socket, "getaddrinfo", lambda *args, **kwargs: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", 80))]
    )

    with django_capture_on_commit_callbacks(execute=True):
        record(user)

    delivery = Delivery.objects.get()
    assert delivery.last_error.startswith("The host 'hooks.example.com' resolves to 127.0.0.1")
    assert receiver.received == []


def test_when_the_broker_is_away_the_sweep_sends_it(
    user, endpoint, receiver, monkeypatch, django_capture_on_commit_callbacks
):
    broker_up = False
    real_queue = services.current_app.tasks[services.DELIVER_TASK].apply_async

    def apply_async(*args, **kwargs):
        if not broker_up:
            raise ConnectionError("broker away")
        return real_queue(*args, **kwargs)

    monkeypatch.setattr(services.current_app.tasks[services.DELIVER_TASK], "apply_async", apply_async)
    with django_capture_on_commit_callbacks(execute=True):
        record(user)
    assert receiver.received == []
    assert Delivery.objects.get().status == "pending"

    broker_up = True
    webhook_dispatch_due()

    assert Delivery.objects.get().status == "delivered"
    assert len(receiver.received) == 1


def test_an_attempt_that_died_is_due_again_when_its_lease_ends(user, endpoint, receiver):
    record(user)  # not committed in this test: queued by nobody
    delivery = Delivery.objects.get()
    Delivery.objects.filter(pk=delivery.pk).update(
        attempts=1, next_attempt_at=timezone.now() + timedelta(seconds=services.ATTEMPT_LEASE_SECONDS)
    )
    assert webhook_attempt(delivery_id=delivery.pk) is None  # its lease still holds

    time_passes(delivery)
    webhook_attempt(delivery_id=delivery.pk)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 2)


@pytest.mark.django_db(transaction=True)
def test_concurrent_attempts_send_once(user, endpoint, receiver, monkeypatch):
    receiver.delay = 0.3
    monkeypatch.setattr(services, "_queue", lambda delivery_ids: None)  # the attempts below are the only ones
    record(user)
    delivery = Delivery.objects.get()
    results = []

    def attempt():
        results.append(webhook_attempt(delivery_id=delivery.pk))

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(result is not None for result in results) == 1
    assert len(receiver.received) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 1)


def test_finished_deliveries_are_forgotten_after_the_retention_but_pending_ones_never(
    user, endpoint, receiver, settings
):
    settings.WEBHOOK_DELIVERY_RETENTION_DAYS = 30
    receiver.answers = [200, 500]
    record(user)
    record(user)
    first, second = Delivery.objects.order_by("created_at")
    webhook_attempt(delivery_id=first.pk)  # delivered
    webhook_attempt(delivery_id=second.pk)  # pending, retried later
    Delivery.objects.update(created_at=timezone.now() - timedelta(days=31))

    webhook_dispatch_due()

    assert list(Delivery.objects.values_list("pk", flat=True)) == [second.pk]
