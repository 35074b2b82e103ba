from decimal import Decimal
from types import SimpleNamespace
from uuid import uuid4

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.core.cache import cache
from django.db import connection
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from accounts.models import User
from accounts.services import api_key_create, user_issue_tokens
from audio.models import DirectUpload, PendingFileDeletion
from payments.models import ReconcileRun, Refund
from tests.factories import (
    AudioFileFactory,
    EndedSessionFactory,
    PaymentFactory,
    TranscriptionFactory,
    UserFactory,
    WebhookEventFactory,
)
from tests.production.faults import CuttableProxy
from tests.s3 import ACCESS_KEY, REGION, SECRET_KEY, SeaweedFS
from transcriptions.models import wallet_subject
from wallet.models import AuditRun
from wallet.services import wallet_credit, wallet_reserve
from webhooks.models import Delivery, Endpoint, SigningSecret


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache: no cached users, throttle counts or provider keys."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _throttle_clock_mid_window(monkeypatch):
    """The throttles count per fixed window (a minute, an hour): a test's requests must not fall on
    both sides of a window's end, which would reset the count mid-test. Their clock stands still,
    half a minute into a window."""
    monkeypatch.setattr(SimpleRateThrottle, "timer", staticmethod(lambda: 86_400.0 * 20_000 + 30))


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def other_user(db):
    return UserFactory()


@pytest.fixture
def anon_client() -> APIClient:
    return APIClient()


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {user_issue_tokens(user=user)['access']}")
    return client


def key_client(key: str) -> APIClient:
    """A client signed in with an API key (`sk-…`)."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


@pytest.fixture
def api_client(user) -> APIClient:
    return client_for(user)


@pytest.fixture
def other_client(other_user) -> APIClient:
    return client_for(other_user)


@pytest.fixture(scope="session")
def seaweedfs(tmp_path_factory):
    """A real S3 server (SeaweedFS) for this test process, started when first asked for."""
    server = SeaweedFS(tmp_path_factory.mktemp("seaweedfs"))
    yield server
    server.stop()


@pytest.fixture
def s3_storage(settings, seaweedfs):
    """Audio stored in a fresh bucket of the S3 server, as a deployment with AWS_STORAGE_BUCKET_NAME has it."""
    bucket = seaweedfs.new_bucket()
    settings.AWS_STORAGE_BUCKET_NAME = bucket
    settings.AWS_S3_ENDPOINT_URL = seaweedfs.endpoint_url
    settings.AWS_S3_ACCESS_KEY_ID = ACCESS_KEY
    settings.AWS_S3_SECRET_ACCESS_KEY = SECRET_KEY
    settings.AWS_S3_REGION_NAME = REGION
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "storages.backends.s3.S3Storage"}}  # last: resets
    return SimpleNamespace(server=seaweedfs, bucket=bucket, keys=lambda: seaweedfs.keys(bucket))


@pytest.fixture
def customer(db) -> User:
    """A user with a row in every table the admin shows."""
    user = UserFactory()
    payment = PaymentFactory(order__user=user)
    wallet_credit(user=user, amount=payment.order.amount, payment_id=payment.razorpay_payment_id)
    audio = AudioFileFactory(user=user)
    job = TranscriptionFactory(user=user, audio_file=audio, status="completed", text="Hello.")
    wallet_reserve(user=user, subject=wallet_subject(uuid4()), minutes=Decimal("1.00"))
    Refund.objects.create(payment=payment, amount=Decimal("10.00"), from_wallet=Decimal("10.00"), source="dashboard")
    endpoint = Endpoint.objects.create(
        user=user, url="https://hooks.example.com/in", events=["transcription.completed"]
    )
    Delivery.objects.create(
        user=user,
        endpoint=endpoint,
        url=endpoint.url,
        event_id="msg_1",
        event_type="transcription.completed",
        payload={},
    )
    SigningSecret.objects.create(user=user)
    PendingFileDeletion.objects.create(name=f"audio_files/{user.pk}/gone.mp3", attempts=1, last_error="503")
    DirectUpload.objects.create(
        user=user,
        key=f"audio_files/{user.pk}/{uuid4()}",
        original_filename="big.wav",
        size_bytes=10,
        expires_at=job.created_at,
    )
    WebhookEventFactory()
    AuditRun.objects.create(ok=False, summary="1 wallets, 3 ledger lines checked: 1 mismatches in 1 wallets.")
    ReconcileRun.objects.create(since=job.created_at, until=job.created_at, ok=None, summary="unreachable")
    EndedSessionFactory(user=user)
    user_issue_tokens(user=user)
    api_key_create(user=user, name="CI server")
    # The admin's sign-in attempts: a lockout, with its failure and a sign-in.
    attempt = {
        "username": "staff@example.com",
        "ip_address": "203.0.113.7",
        "user_agent": "curl/8",
        "path_info": "/admin/login/",
    }
    AccessAttempt.objects.create(**attempt, failures_since_start=5, get_data="", post_data="username=staff@example.com")
    AccessFailureLog.objects.create(**attempt, locked_out=True)
    AccessLog.objects.create(**attempt)
    return user


@pytest.fixture
def database_proxy():
    """A TCP proxy in front of MariaDB that a test can cut and restore (MariaDB only)."""
    if connection.vendor != "mysql":
        pytest.skip("only MySQL/MariaDB is reached over the network; SQLite is a local file")
    db = connection.settings_dict
    proxy = CuttableProxy(db["HOST"] or "127.0.0.1", int(db["PORT"] or 3306))
    yield proxy
    proxy.close()
