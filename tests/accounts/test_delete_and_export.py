"""A user's own data: `GET /api/auth/user/export/` gives all of it; `DELETE /api/auth/user/` erases
the personal part and the files, revokes every token and keeps the ledger, anonymised."""

import io
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from allauth.socialaccount.models import SocialAccount
from django.core.files import File
from django.core.management import call_command
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import user_issue_tokens
from audio.models import AudioFile
from audio.services import audio_file_create
from tests.accounts.conftest import GOOGLE_LOGIN_URL
from tests.factories import OrderFactory, PaymentFactory, TranscriptionFactory
from transcriptions.models import Transcription
from wallet.models import Transaction
from wallet.services import wallet_credit
from webhooks.models import Endpoint, SigningSecret

pytestmark = pytest.mark.django_db

URL = "/api/auth/user/?confirmation=delete-my-account"


@pytest.fixture
def lived_in(google, anon_client, tmp_path, settings):
    """A user signed in with Google who paid, uploaded, transcribed and registered a webhook."""
    signed_in = anon_client.post(GOOGLE_LOGIN_URL, {"id_token": google.id_token()}, format="json").json()
    user = User.objects.get(pk=signed_in["user"]["id"])
    order = OrderFactory(user=user, amount=Decimal("50.00"))
    payment = PaymentFactory(order=order)
    wallet_credit(user=user, amount=Decimal("50.00"), payment_id=payment.razorpay_payment_id)
    path = tmp_path / "diary.mp3"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=duration=2", "-ac", "1", str(path)], check=True)
    with path.open("rb") as file:
        audio = audio_file_create(user=user, file=File(file), original_filename="My diary.mp3")
    TranscriptionFactory(
        user=user, audio_file=audio, status="completed", text="Dear diary.", audio_filename="My diary.mp3"
    )
    Endpoint.objects.create(user=user, url="https://hooks.example.com/in", events=["transcription.completed"])
    SigningSecret.objects.create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {signed_in['access']}")
    return {"user": user, "client": client, "refresh": signed_in["refresh"], "audio": audio, "settings": settings}


def test_export_holds_every_section_the_schema_declares(lived_in, other_client):
    response = lived_in["client"].get("/api/auth/user/export/")

    assert response.status_code == 200
    body = response.json()
    declared = SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]["UserExportOutput"]
    assert set(body) == set(declared["properties"])
    assert body["profile"]["email"] == "ada@example.com"
    assert body["wallet"]["balance"] == "50.00"
    assert [line["type"] for line in body["wallet"]["transactions"]] == ["credit", "credit"]  # top-up, demo grant
    assert [audio["original_filename"] for audio in body["audio_files"]] == ["My diary.mp3"]
    assert [job["text"] for job in body["transcriptions"]] == ["Dear diary."]
    assert body["payments"][0]["amount"] == "50.00"
    assert body["webhooks"][0]["url"] == "https://hooks.example.com/in"
    assert "whsec_" not in response.content.decode()
    theirs = other_client.get("/api/auth/user/export/").json()
    assert (theirs["audio_files"], theirs["transcriptions"], theirs["webhooks"]) == ([], [], [])


@pytest.mark.parametrize(
    "query",
    ["", "?confirmation=yes", "?confirmation=DELETE-MY-ACCOUNT", "?confirmation=delete-my-account&confirmation=x"],
)
def test_deleting_needs_the_exact_confirmation(lived_in, query):
    response = lived_in["client"].delete(f"/api/auth/user/{query}")

    assert (response.status_code, response.json()["code"]) == (400, "invalid")
    assert "confirmation" in response.json()["errors"]
    assert User.objects.get(pk=lived_in["user"].pk).is_active


def test_deleting_erases_personal_data_and_files_and_keeps_the_ledger(
    lived_in, anon_client, django_capture_on_commit_callbacks
):
    user, client, settings = lived_in["user"], lived_in["client"], lived_in["settings"]
    stored = Path(settings.MEDIA_ROOT, lived_in["audio"].file.name)
    ledger = list(Transaction.objects.filter(wallet__user=user).values_list("pk", "amount"))
    assert stored.exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.delete(URL)

    assert response.status_code == 204
    user.refresh_from_db()
    assert (user.email, user.name, user.provider_uid, user.is_active) == (
        f"deleted-{user.pk.hex}@deleted.invalid",
        "",
        None,
        False,
    )
    assert not user.has_usable_password()
    assert not SocialAccount.objects.filter(user=user).exists()
    assert not AudioFile.objects.filter(user=user).exists()
    assert not stored.exists()
    job = Transcription.objects.get(user=user)
    assert (job.text, job.audio_filename, job.status) == ("", "", "completed")
    assert job.deleted_at is not None
    assert not Endpoint.objects.filter(user=user).exists()
    assert not SigningSecret.objects.filter(user=user).exists()
    assert list(Transaction.objects.filter(wallet__user=user).values_list("pk", "amount")) == ledger
    out = io.StringIO()
    call_command("audit_ledger", stdout=out)  # exits non-zero on a mismatch
    # Every token is dead: the access token at once, the refresh token for good.
    assert client.get("/api/auth/user/").status_code == 401
    refreshed = anon_client.post("/api/auth/token/refresh/", {"refresh": lived_in["refresh"]}, format="json")
    assert refreshed.status_code == 401


def test_signing_in_again_after_deletion_makes_a_new_empty_account(lived_in, anon_client, google):
    lived_in["client"].delete(URL)

    again = anon_client.post(GOOGLE_LOGIN_URL, {"id_token": google.id_token()}, format="json").json()

    assert again["created"] is True
    assert again["user"]["id"] != str(lived_in["user"].pk)
    fresh = APIClient()
    fresh.credentials(HTTP_AUTHORIZATION=f"Bearer {again['access']}")
    assert fresh.get("/api/wallet/details/").json()["balance"] == "0.00"
    assert fresh.get("/api/transcriptions/").json()["count"] == 0


def test_deleting_while_a_job_runs_is_409_and_changes_nothing(lived_in):
    user = lived_in["user"]
    TranscriptionFactory(user=user, status="processing")

    response = lived_in["client"].delete(URL)

    assert (response.status_code, response.json()["code"]) == (409, "transcription_active")
    user.refresh_from_db()
    assert (user.email, user.is_active) == ("ada@example.com", True)
    assert Transcription.objects.get(user=user, status="completed").text == "Dear diary."
    assert AudioFile.objects.filter(user=user).exists()
    assert Endpoint.objects.filter(user=user).exists()


def test_every_refresh_token_of_the_user_is_revoked(user):
    """Every refresh token the user holds, not only the one of the request, is blacklisted."""
    first, second = user_issue_tokens(user=user), user_issue_tokens(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {first['access']}")

    assert client.delete(URL).status_code == 204

    anon = APIClient()
    for pair in (first, second):
        assert anon.post("/api/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json").status_code == 401
