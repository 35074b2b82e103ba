"""No server-side request forgery: webhook URLs that reach into the private network are refused,
for each class of address, at registration, on a transcription request and before every attempt."""

import socket

import pytest

from tests.factories import AudioFileFactory
from wallet.models import Hold
from webhooks.addresses import checked_target
from webhooks.exceptions import WebhookUrlNotAllowed
from webhooks.models import Endpoint

pytestmark = pytest.mark.django_db

REFUSED = {
    "loopback": "http://127.0.0.1:8000/hook",
    "loopback, elsewhere in 127/8": "http://127.8.9.10/hook",
    "loopback by name": "http://localhost/hook",
    "loopback IPv6": "http://[::1]/hook",
    "IPv4-mapped loopback": "http://[::ffff:127.0.0.1]/hook",
    "IPv4-compatible loopback": "http://[::7f00:1]/hook",
    "NAT64 of loopback": "http://[64:ff9b::7f00:1]/hook",
    "6to4 of loopback": "http://[2002:7f00:1::]/hook",
    "private 10/8": "http://10.0.0.5/hook",
    "private 172.16/12": "http://172.20.1.1/hook",
    "private 192.168/16": "http://192.168.1.10/hook",
    "unique local IPv6": "http://[fc00::1]/hook",
    "carrier-grade NAT": "http://100.64.0.1/hook",
    "link-local": "http://169.254.10.10/hook",
    "metadata service": "http://169.254.169.254/latest/meta-data/",
    "metadata service IPv6": "http://[fd00:ec2::254]/latest/meta-data/",
    "link-local IPv6": "http://[fe80::1]/hook",
    "unspecified": "http://0.0.0.0/hook",
    "multicast": "http://224.0.0.251/hook",
    "broadcast": "http://255.255.255.255/hook",
    "documentation range": "http://192.0.2.1/hook",
    "decimal loopback": "http://2130706433/hook",
    "not http": "ftp://8.8.8.8/hook",
    "file": "file:///etc/passwd",
    "with credentials": "http://user:secret@8.8.8.8/hook",
}


@pytest.fixture
def no_private(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    return settings


@pytest.mark.parametrize("url", REFUSED.values(), ids=REFUSED.keys())
def test_registration_refuses_each_private_address_class(api_client, no_private, url):
    response = api_client.post("/api/webhooks/", {"url": url, "events": ["transcription.completed"]}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] in ("webhook_url_not_allowed", "invalid")  # `invalid`: DRF's URL check came first
    assert not Endpoint.objects.exists()


@pytest.mark.parametrize("url", REFUSED.values(), ids=REFUSED.keys())
def test_the_check_itself_refuses_each_private_address_class(no_private, url):
    with pytest.raises(WebhookUrlNotAllowed):
        checked_target(url)


def test_a_public_address_is_allowed_and_pinned(no_private):
    target = checked_target("http://8.8.8.8:8080/hook?x=1")

    assert (target.scheme, target.host, target.port, target.address, target.path) == (
        "http",
        "8.8.8.8",
        8080,
        "8.8.8.8",
        "/hook?x=1",
    )


def test_a_name_with_any_private_address_is_refused(no_private, monkeypatch):
    """A host with one public and one private address could be reached at the private one."""
    answers = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, 443)) for address in ("8.8.8.8", "10.0.0.1")]
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: answers)

    with pytest.raises(WebhookUrlNotAllowed, match=r"10\.0\.0\.1"):
        checked_target("https://hooks.example.com/")


def test_a_name_that_does_not_resolve_is_refused(no_private):
    with pytest.raises(WebhookUrlNotAllowed, match="could not be resolved"):
        checked_target("https://no-such-host.invalid/hook")


def test_production_takes_https_only(settings):
    settings.WEBHOOK_REQUIRE_HTTPS = True

    with pytest.raises(WebhookUrlNotAllowed, match="https://"):
        checked_target("http://127.0.0.1/hook")
    assert checked_target("https://127.0.0.1/hook").port == 443


def test_the_setting_lets_development_use_loopback(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True

    assert checked_target("http://localhost:9000/").address in ("127.0.0.1", "::1")


def test_a_transcription_request_with_a_private_webhook_url_is_400_and_holds_nothing(api_client, user, no_private):
    audio = AudioFileFactory(user=user)

    response = api_client.post(
        "/api/transcriptions/",
        {"audio_file": str(audio.pk), "webhook_url": "http://169.254.169.254/latest/meta-data/"},
        format="json",
    )

    assert (response.status_code, response.json()["code"]) == (400, "webhook_url_not_allowed")
    assert not Hold.objects.exists()
    assert not user.transcriptions.exists()
