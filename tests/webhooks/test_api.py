"""The webhook endpoints' API: registration, the secret shown once, the test action, deliveries."""

import pytest
from django.contrib.admin.models import LogEntry
from rest_framework.throttling import ScopedRateThrottle

from accounts.models import User
from tests.webhooks.receiver import Receiver
from webhooks.models import Delivery, Endpoint

pytestmark = pytest.mark.django_db

URL = "/api/webhooks/"


def register(client, url, events=("transcription.completed",)):
    return client.post(URL, {"url": url, "events": list(events)}, format="json")


def test_registering_answers_201_with_the_secret_once(api_client, receiver):
    response = register(api_client, receiver.url, ["transcription.failed", "transcription.completed"])

    assert response.status_code == 201
    body = response.json()
    assert body["secret"].startswith("whsec_")
    assert body["events"] == ["transcription.completed", "transcription.failed"]
    assert (body["url"], body["disabled_at"], body["disabled_reason"]) == (receiver.url, None, "")
    listed = api_client.get(URL).json()
    assert listed["count"] == 1
    assert "secret" not in listed["results"][0]
    assert "secret" not in api_client.get(f"{URL}{body['id']}/").json()


def test_at_most_five_endpoints_a_user(api_client, receiver):
    for _ in range(5):
        assert register(api_client, receiver.url).status_code == 201

    sixth = register(api_client, receiver.url)

    assert (sixth.status_code, sixth.json()["code"]) == (400, "too_many_webhook_endpoints")
    assert Endpoint.objects.count() == 5


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "http://127.0.0.1:9/", "events": []}, "events"),
        ({"url": "http://127.0.0.1:9/", "events": ["transcription.started"]}, "events"),
        ({"url": "not a url", "events": ["transcription.completed"]}, "url"),
        ({"events": ["transcription.completed"]}, "url"),
    ],
)
def test_invalid_registrations_are_400_by_field(api_client, body, field):
    response = api_client.post(URL, body, format="json")

    assert (response.status_code, response.json()["code"]) == (400, "invalid")
    assert field in response.json()["errors"]
    assert not Endpoint.objects.exists()


def test_the_test_action_sends_a_signed_event_and_reports_the_answer(api_client, receiver):
    created = register(api_client, receiver.url).json()
    receiver.secret = created["secret"]

    response = api_client.post(f"{URL}{created['id']}/test/")

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["attempts"], body["last_status_code"], body["event_type"]) == (
        "delivered",
        1,
        200,
        "webhook.test",
    )
    [request] = receiver.received
    assert request.verified == {
        "type": "webhook.test",
        "timestamp": request.verified["timestamp"],
        "data": {"endpoint": created["id"]},
    }
    assert request.headers["webhook-id"] == body["event_id"]
    assert request.path == "/hooks?source=transcriber"


def test_a_failed_test_is_reported_and_not_retried(api_client, receiver):
    receiver.answers = [500]
    created = register(api_client, receiver.url).json()

    body = api_client.post(f"{URL}{created['id']}/test/").json()

    assert (body["status"], body["last_status_code"], body["last_error"], body["next_attempt_at"]) == (
        "failed",
        500,
        "Answered 500.",
        None,
    )


def test_a_successful_test_enables_a_disabled_endpoint(api_client, receiver):
    created = register(api_client, receiver.url).json()
    Endpoint.objects.filter(pk=created["id"]).update(disabled_at="2026-01-01T00:00:00Z", disabled_reason="Broken.")

    api_client.post(f"{URL}{created['id']}/test/")

    endpoint = api_client.get(f"{URL}{created['id']}/").json()
    assert (endpoint["disabled_at"], endpoint["disabled_reason"]) == (None, "")


def test_deliveries_list_newest_first_with_their_outcome(api_client, receiver):
    created = register(api_client, receiver.url).json()
    receiver.answers = [200, 503]
    api_client.post(f"{URL}{created['id']}/test/")
    api_client.post(f"{URL}{created['id']}/test/")

    body = api_client.get(f"{URL}{created['id']}/deliveries/").json()

    assert body["count"] == 2
    assert [(d["status"], d["last_status_code"]) for d in body["results"]] == [("failed", 503), ("delivered", 200)]


def test_deleting_an_endpoint_deletes_its_deliveries(api_client, receiver):
    created = register(api_client, receiver.url).json()
    api_client.post(f"{URL}{created['id']}/test/")

    assert api_client.delete(f"{URL}{created['id']}/").status_code == 204
    assert not Endpoint.objects.exists()
    assert not Delivery.objects.exists()
    assert api_client.delete(f"{URL}{created['id']}/").status_code == 404


def test_another_users_endpoint_is_404_everywhere(api_client, other_client, receiver):
    created = register(other_client, receiver.url).json()

    for method, path in [
        ("get", f"{URL}{created['id']}/"),
        ("delete", f"{URL}{created['id']}/"),
        ("post", f"{URL}{created['id']}/test/"),
        ("get", f"{URL}{created['id']}/deliveries/"),
    ]:
        response = getattr(api_client, method)(path)
        assert (response.status_code, response.json()["code"]) == (404, "not_found"), path
    assert api_client.get(URL).json()["count"] == 0
    assert receiver.received == []
    assert Endpoint.objects.count() == 1


def test_the_default_signing_secret_is_made_once_and_kept(api_client, other_client):
    first = api_client.get(f"{URL}signing_secret/").json()["secret"]

    assert first.startswith("whsec_")
    assert api_client.get(f"{URL}signing_secret/").json()["secret"] == first
    assert other_client.get(f"{URL}signing_secret/").json()["secret"] != first


def test_the_test_action_is_throttled(api_client, receiver, monkeypatch):
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"webhook_test": "2/min"})
    created = register(api_client, receiver.url).json()

    answers = [api_client.post(f"{URL}{created['id']}/test/").status_code for _ in range(3)]

    assert answers == [200, 200, 429]
    assert len(receiver.received) == 2


def test_a_receiver_that_is_down_is_reported(api_client):
    with Receiver() as gone:
        url = gone.url
    created = register(api_client, url).json()

    body = api_client.post(f"{URL}{created['id']}/test/").json()

    assert (body["status"], body["last_status_code"]) == ("failed", None)
    assert body["last_error"] == "The connection was refused or could not be made."


def test_an_admin_disables_and_enables_an_endpoint_with_a_reason(api_client, client, receiver):
    created = register(api_client, receiver.url).json()
    client.force_login(User.objects.create_superuser("ops@example.com", "pw-ops-1"))
    selected = {"_selected_action": [created["id"]], "apply": "1", "reason": "Answers 500 to everything"}

    client.post("/admin/webhooks/endpoint/", {"action": "disable", **selected})
    disabled = api_client.get(f"{URL}{created['id']}/").json()
    client.post("/admin/webhooks/endpoint/", {"action": "enable", **selected})
    enabled = api_client.get(f"{URL}{created['id']}/").json()

    assert disabled["disabled_at"] and disabled["disabled_reason"] == "Disabled by an admin: Answers 500 to everything"
    assert (enabled["disabled_at"], enabled["disabled_reason"]) == (None, "")
    assert [entry.get_change_message() for entry in LogEntry.objects.order_by("pk")] == [
        "Disable: disabled. Reason: Answers 500 to everything",
        "Enable: enabled: events from now on are sent. Reason: Answers 500 to everything",
    ]


def test_a_long_reason_is_shown_cut_with_an_ellipsis_and_logged_whole(api_client, client, receiver):
    created = register(api_client, receiver.url).json()
    client.force_login(User.objects.create_superuser("ops@example.com", "pw-ops-1"))
    reason = "Answers 500. " * 38  # 494 characters, as much as the form takes

    client.post(
        "/admin/webhooks/endpoint/",
        {"action": "disable", "_selected_action": [created["id"]], "apply": "1", "reason": reason},
    )

    shown = api_client.get(f"{URL}{created['id']}/").json()["disabled_reason"]
    assert len(shown) == 255 and shown.endswith("…")
    assert shown[:-1] == f"Disabled by an admin: {reason}"[:254]
    assert LogEntry.objects.get().get_change_message() == f"Disable: disabled. Reason: {reason.strip()}"
