import logging

import pytest
import requests
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount

from accounts.models import User
from tests.accounts.conftest import FACEBOOK_LOGIN_URL, GOOGLE_LOGIN_URL
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

GRACE_UID = "10228000000000001"


def _login(client, token: str):
    return client.post(FACEBOOK_LOGIN_URL, {"access_token": token}, format="json")


def _assert_refused(response, code: str = "invalid_provider_token", status: int = 401) -> None:
    assert response.status_code == status, response.content
    assert response.json()["code"] == code
    assert response.json()["detail"]


def test_valid_token_creates_user_with_wallet(anon_client, facebook, settings):
    facebook.accept("EAAG-valid")

    response = _login(anon_client, "EAAG-valid")

    assert response.status_code == 200, response.content
    body = response.json()
    user = User.objects.get()
    assert body["created"] is True
    assert body["user"]["id"] == str(user.id)
    assert (user.email, user.name, user.provider, user.provider_uid) == (
        "grace@example.com",
        "Grace Hopper",
        "facebook",
        GRACE_UID,
    )
    assert user.wallet.demo_minutes_remaining == settings.DEMO_MINUTES
    # Facebook does not vouch for its emails: a later Google sign-in cannot rely on this one.
    assert EmailAddress.objects.get(user=user).verified is False
    assert anon_client.get("/api/auth/user/", HTTP_AUTHORIZATION=f"Bearer {body['access']}").status_code == 200


def test_returning_user_gets_the_same_account_and_app_token_is_fetched_once(anon_client, facebook):
    facebook.accept("EAAG-first")
    facebook.accept("EAAG-second")

    first = _login(anon_client, "EAAG-first")
    second = _login(anon_client, "EAAG-second")

    assert second.status_code == 200
    assert second.json()["created"] is False
    assert second.json()["user"]["id"] == first.json()["user"]["id"]
    app_token_calls = [c for c in facebook.rsps.calls if c.request.url.startswith(facebook.app_token_url)]
    assert len(app_token_calls) == 1


def test_token_for_another_app_is_401(anon_client, facebook):
    facebook.debug_token("EAAG-other-app", app_id="111111111")
    facebook.me("EAAG-other-app")

    response = _login(anon_client, "EAAG-other-app")

    _assert_refused(response)
    assert not User.objects.exists()


def test_invalid_token_is_401(anon_client, facebook):
    facebook.debug_token(
        "EAAG-expired", is_valid=False, error={"code": 190, "message": "Error validating access token"}
    )

    _assert_refused(_login(anon_client, "EAAG-expired"))
    assert not User.objects.exists()


def test_token_graph_refuses_to_read_is_401(anon_client, facebook):
    facebook.debug_token("EAAG-revoked")
    facebook.rsps.get(facebook.me_url, status=400, json={"error": {"code": 190, "type": "OAuthException"}})

    _assert_refused(_login(anon_client, "EAAG-revoked"))


def test_graph_answer_without_data_is_401(anon_client, facebook):
    facebook.rsps.get(facebook.debug_token_url, json={"error": {"message": "Invalid OAuth access token"}})

    _assert_refused(_login(anon_client, "garbage"))


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param({"body": requests.ConnectionError("down")}, id="unreachable"),
        pytest.param({"status": 500, "json": {"error": {"code": 2}}}, id="5xx"),
        pytest.param({"status": 429, "json": {"error": {"code": 4}}}, id="rate-limited"),
    ],
)
@pytest.mark.parametrize("endpoint", ["app_token_url", "debug_token_url", "me_url"])
def test_graph_down_is_503(anon_client, facebook, endpoint, answer):
    facebook.accept("EAAG-valid")
    facebook.rsps.replace("GET", getattr(facebook, endpoint), **answer)

    response = _login(anon_client, "EAAG-valid")

    _assert_refused(response, code="provider_unavailable", status=503)
    assert not User.objects.exists()


def test_tokens_stay_out_of_the_log(anon_client, facebook, caplog):
    facebook.debug_token("EAAG-secret-token")
    facebook.rsps.get(facebook.me_url, status=502)

    with caplog.at_level(logging.INFO, logger="accounts"):
        response = _login(anon_client, "EAAG-secret-token")

    assert response.status_code == 503
    assert "graph.facebook.com" in caplog.text
    assert "EAAG-secret-token" not in caplog.text


def test_refused_app_credentials_are_503_not_configured(anon_client, facebook):
    facebook.rsps.replace(
        "GET", facebook.app_token_url, status=400, json={"error": {"message": "Error validating client secret."}}
    )

    _assert_refused(_login(anon_client, "EAAG-valid"), code="provider_not_configured", status=503)


@pytest.mark.parametrize("missing", ["FACEBOOK_APP_ID", "FACEBOOK_APP_SECRET"])
def test_not_configured_is_503(anon_client, facebook, settings, missing):
    setattr(settings, missing, "")

    _assert_refused(_login(anon_client, "EAAG-valid"), code="provider_not_configured", status=503)


@pytest.mark.parametrize("body", [{}, {"access_token": ""}, {"id_token": "a.b.c"}], ids=str)
def test_missing_access_token_is_400(anon_client, facebook, body):
    response = anon_client.post(FACEBOOK_LOGIN_URL, body, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "access_token" in response.json()["errors"]


def test_new_user_without_email_is_400(anon_client, facebook):
    facebook.accept("EAAG-no-email", email=None)

    _assert_refused(_login(anon_client, "EAAG-no-email"), code="email_required", status=400)
    assert not User.objects.exists()


def test_email_of_an_existing_user_is_409_because_facebook_does_not_verify_it(anon_client, facebook):
    existing = UserFactory(email="grace@example.com", provider="google")
    facebook.accept("EAAG-valid")

    response = _login(anon_client, "EAAG-valid")

    _assert_refused(response, code="email_in_use", status=409)
    assert list(User.objects.all()) == [existing]
    assert not SocialAccount.objects.exists()


def test_google_with_verified_email_reaches_the_facebook_user(anon_client, facebook, google):
    facebook.accept("EAAG-valid")
    by_facebook = _login(anon_client, "EAAG-valid")

    by_google = anon_client.post(
        GOOGLE_LOGIN_URL, {"id_token": google.id_token(email="grace@example.com")}, format="json"
    )

    assert by_google.status_code == 200, by_google.content
    assert by_google.json()["user"]["id"] == by_facebook.json()["user"]["id"]
    assert sorted(SocialAccount.objects.values_list("provider", flat=True)) == ["facebook", "google"]
