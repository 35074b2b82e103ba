import time

import pytest
import requests
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from allauth.socialaccount.providers.google.views import CERTS_URL

from accounts.models import User
from accounts.social import GOOGLE_TOKENINFO_URL
from tests.accounts.conftest import GOOGLE_LOGIN_URL
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ADA_UID = "110169484474386276334"


def _login(client, **body):
    return client.post(GOOGLE_LOGIN_URL, body, format="json")


def _assert_refused(response, code: str = "invalid_provider_token", status: int = 401) -> None:
    assert response.status_code == status, response.content
    assert response.json()["code"] == code
    assert response.json()["detail"]


def test_first_sign_in_creates_user_with_wallet_and_returns_jwt_pair(anon_client, google, settings):
    response = _login(anon_client, id_token=google.id_token())

    assert response.status_code == 200, response.content
    body = response.json()
    user = User.objects.get(email="ada@example.com")
    assert body["created"] is True
    assert body["user"] == {
        "id": str(user.id),
        "email": "ada@example.com",
        "name": "Ada Lovelace",
        "provider": "google",
        "created_at": user.created_at.isoformat().replace("+00:00", "Z"),
    }
    assert body["access"] and body["refresh"]
    assert (user.provider, user.provider_uid) == ("google", ADA_UID)
    assert not user.has_usable_password()
    assert user.last_login is not None
    assert user.wallet.demo_minutes_remaining == settings.DEMO_MINUTES
    assert user.wallet.balance == 0
    assert user.wallet.transactions.count() == 1
    assert SocialAccount.objects.get(user=user).uid == ADA_UID
    assert EmailAddress.objects.get(user=user).verified is True
    assert "sessionid" not in response.cookies  # no session: the SPA lives on the JWT


def test_returning_user_gets_the_same_account(anon_client, google):
    first = _login(anon_client, id_token=google.id_token())
    second = _login(anon_client, id_token=google.id_token(email="ada.lovelace@example.com"))

    assert second.status_code == 200
    assert second.json()["created"] is False
    assert second.json()["user"]["id"] == first.json()["user"]["id"]
    assert User.objects.count() == 1
    assert SocialAccount.objects.count() == 1


def test_returning_user_signs_in_even_when_google_withholds_the_email(anon_client, google):
    first = _login(anon_client, id_token=google.id_token())
    second = _login(anon_client, id_token=google.id_token(email=None, email_verified=None))

    assert second.status_code == 200
    assert second.json()["user"]["id"] == first.json()["user"]["id"]


@pytest.mark.parametrize(
    "claims",
    [
        pytest.param({"aud": "someone-else.apps.googleusercontent.com"}, id="wrong-audience"),
        pytest.param({"iss": "https://accounts.evil.example"}, id="wrong-issuer"),
        pytest.param({"exp": int(time.time()) - 60, "iat": int(time.time()) - 3660}, id="expired"),
        pytest.param({"sub": None}, id="no-subject"),
    ],
)
def test_token_with_bad_claims_is_401_and_creates_nothing(anon_client, google, claims):
    response = _login(anon_client, id_token=google.id_token(**claims))

    _assert_refused(response)
    assert not User.objects.exists()


def test_token_signed_by_another_key_is_401(anon_client, google, foreign_key):
    response = _login(anon_client, id_token=google.id_token(signing_key=foreign_key))

    _assert_refused(response)
    assert not User.objects.exists()


def test_replayed_token_is_401(anon_client, google):
    token = google.id_token()

    first = _login(anon_client, id_token=token)
    replay = _login(anon_client, id_token=token)

    assert first.status_code == 200
    _assert_refused(replay)


@pytest.mark.parametrize("token", ["not-a-jwt", "e30.e30.", "eyJhbGciOiJSUzI1NiJ9.e30.c2ln"], ids=str)
def test_malformed_token_is_401(anon_client, google, token):
    _assert_refused(_login(anon_client, id_token=token))


def test_token_with_unknown_kid_is_401(anon_client, google, google_key):
    token = google.id_token()
    google.rsps.replace("GET", CERTS_URL, json={"another-kid": google_key.certificate_pem})

    _assert_refused(_login(anon_client, id_token=token))


def test_new_user_without_email_is_400_and_creates_nothing(anon_client, google):
    response = _login(anon_client, id_token=google.id_token(email=None, email_verified=None))

    _assert_refused(response, code="email_required", status=400)
    assert not User.objects.exists()
    assert not SocialAccount.objects.exists()


def test_unverified_email_of_an_existing_user_is_409(anon_client, google):
    existing = UserFactory(email="ada@example.com", provider="facebook")

    response = _login(anon_client, id_token=google.id_token(email="Ada@Example.com", email_verified=False))

    _assert_refused(response, code="email_in_use", status=409)
    assert list(User.objects.all()) == [existing]
    assert not SocialAccount.objects.exists()


def test_verified_email_links_to_the_existing_user(anon_client, google):
    existing = UserFactory(email="ada@example.com", provider="facebook")

    linked = _login(anon_client, id_token=google.id_token())
    again = _login(anon_client, id_token=google.id_token(email="ada.new@example.com"))

    assert linked.status_code == 200
    assert linked.json()["created"] is False
    assert linked.json()["user"]["id"] == str(existing.id)
    assert linked.json()["user"]["provider"] == "facebook"  # the provider the account was made with
    assert SocialAccount.objects.get(user=existing).provider == "google"
    assert again.json()["user"]["id"] == str(existing.id)  # found by the linked account now
    assert User.objects.count() == 1


def test_disabled_user_is_403(anon_client, google):
    _login(anon_client, id_token=google.id_token())
    User.objects.update(is_active=False)

    response = _login(anon_client, id_token=google.id_token())

    _assert_refused(response, code="account_disabled", status=403)


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param({"body": requests.ConnectionError("down")}, id="unreachable"),
        pytest.param({"body": requests.Timeout("slow")}, id="timeout"),
        pytest.param({"status": 503, "body": "unavailable"}, id="5xx"),
        pytest.param({"status": 200, "body": "<html>not json</html>"}, id="unreadable"),
    ],
)
def test_google_unreachable_is_503(anon_client, google, answer):
    token = google.id_token()
    google.rsps.replace("GET", CERTS_URL, **answer)

    response = _login(anon_client, id_token=token)

    _assert_refused(response, code="provider_unavailable", status=503)
    assert not User.objects.exists()


def test_not_configured_is_503(anon_client, google, settings):
    settings.GOOGLE_CLIENT_ID = ""

    response = _login(anon_client, id_token=google.id_token())

    _assert_refused(response, code="provider_not_configured", status=503)


@pytest.mark.parametrize("body", [{}, {"id_token": ""}, {"access_token": ""}, {"id_token": "x" * 5000}], ids=str)
def test_missing_or_bad_token_field_is_400(anon_client, google, body):
    response = _login(anon_client, **body)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert response.json()["errors"]


# --- The access-token path ---------------------------------------------------------------------


def test_access_token_for_our_client_signs_in(anon_client, google):
    google.accept_access_token("ya29.valid")

    response = _login(anon_client, access_token="ya29.valid")

    assert response.status_code == 200, response.content
    assert response.json()["created"] is True
    user = User.objects.get()
    assert (user.email, user.name, user.provider_uid) == ("ada@example.com", "Ada Lovelace", ADA_UID)
    assert EmailAddress.objects.get(user=user).verified is True


def test_access_token_and_id_token_reach_the_same_user(anon_client, google):
    google.accept_access_token("ya29.valid")

    by_id_token = _login(anon_client, id_token=google.id_token())
    by_access_token = _login(anon_client, access_token="ya29.valid")

    assert by_access_token.json()["user"]["id"] == by_id_token.json()["user"]["id"]
    assert by_access_token.json()["created"] is False


def test_id_token_is_preferred_when_both_are_sent(anon_client, google):
    response = _login(anon_client, id_token=google.id_token(), access_token="ya29.never-checked")

    assert response.status_code == 200
    assert not any(call.request.url.startswith(GOOGLE_TOKENINFO_URL) for call in google.rsps.calls)


def test_access_token_issued_to_another_client_is_401(anon_client, google):
    google.accept_access_token("ya29.foreign", aud="someone-else.apps.googleusercontent.com")

    response = _login(anon_client, access_token="ya29.foreign")

    _assert_refused(response)
    assert not User.objects.exists()


def test_access_token_google_rejects_is_401(anon_client, google):
    google.rsps.get(GOOGLE_TOKENINFO_URL, status=400, json={"error": "invalid_token"})

    _assert_refused(_login(anon_client, access_token="ya29.expired"))


def test_access_token_while_google_is_down_is_503(anon_client, google):
    google.rsps.get(GOOGLE_TOKENINFO_URL, status=500, body="backend error")

    _assert_refused(_login(anon_client, access_token="ya29.valid"), code="provider_unavailable", status=503)
