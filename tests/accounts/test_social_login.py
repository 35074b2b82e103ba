"""What both providers share: our JWTs, the throttle, the one-transaction sign-up, concurrent sign-ins."""

import threading

import pytest
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.models import SocialAccount, SocialApp, SocialToken
from django.contrib import admin
from django.db import IntegrityError, connection, connections
from django.test import RequestFactory
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from accounts.models import User
from tests.accounts.conftest import FACEBOOK_LOGIN_URL, GOOGLE_LOGIN_URL
from tests.factories import UserFactory
from wallet.models import Wallet


@pytest.mark.django_db
def test_jwt_pair_from_sign_in_reads_user_refreshes_and_logs_out(anon_client, google):
    tokens = anon_client.post(GOOGLE_LOGIN_URL, {"id_token": google.id_token()}, format="json").json()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")

    me = client.get("/api/auth/user/")
    refreshed = anon_client.post("/api/auth/token/refresh/", {"refresh": tokens["refresh"]}, format="json")
    new_refresh = refreshed.json()["refresh"]
    logout = client.post("/api/auth/logout/", {"refresh": new_refresh}, format="json")
    after_logout = anon_client.post("/api/auth/token/refresh/", {"refresh": new_refresh}, format="json")

    assert me.status_code == 200
    assert me.json() == tokens["user"]
    assert refreshed.status_code == 200
    assert logout.status_code == 204
    assert after_logout.status_code == 401


@pytest.mark.django_db
def test_stale_bearer_token_does_not_block_sign_in(anon_client, google):
    anon_client.credentials(HTTP_AUTHORIZATION="Bearer expired.or.garbage")

    response = anon_client.post(GOOGLE_LOGIN_URL, {"id_token": google.id_token()}, format="json")

    assert response.status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("url", [GOOGLE_LOGIN_URL, FACEBOOK_LOGIN_URL])
def test_sign_in_attempts_beyond_the_login_rate_are_429(url):
    # The rate the view really uses (THROTTLE_RATES may change it), e.g. 20 a minute.
    allowed, _ = ScopedRateThrottle().parse_rate(ScopedRateThrottle.THROTTLE_RATES["login"])
    client, elsewhere = APIClient(REMOTE_ADDR="203.0.113.7"), APIClient(REMOTE_ADDR="203.0.113.8")

    statuses = [client.post(url, {}, format="json").status_code for _ in range(allowed)]
    over = client.post(url, {}, format="json")

    assert statuses == [400] * allowed
    assert over.status_code == 429
    assert over.json()["code"] == "throttled"
    assert elsewhere.post(url, {}, format="json").status_code == 400  # counted per client address


@pytest.mark.django_db
def test_sign_up_is_one_transaction_with_the_social_account(google):
    """If the SocialAccount row cannot be written, no user and no wallet are left behind."""
    taken_by = UserFactory(email="someone@example.com")
    SocialAccount.objects.create(user=taken_by, provider="google", uid="110169484474386276334")
    request = RequestFactory().post(GOOGLE_LOGIN_URL)
    adapter = get_adapter(request)
    provider = adapter.get_provider(request, "google")
    sociallogin = provider.sociallogin_from_response(
        request, {"sub": "110169484474386276334", "email": "ada@example.com", "email_verified": True}
    )

    with pytest.raises(IntegrityError):
        adapter.save_user(request, sociallogin)

    assert not User.objects.filter(email="ada@example.com").exists()
    assert Wallet.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_first_sign_ins_make_one_user(facebook):
    """Two requests with the same token pass verification together, then both find no user: one
    creates it, the other must answer with that same user rather than fail."""
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers; the sequential case is test_returning_user_gets_the_same_account")
    both_verified = threading.Barrier(2, timeout=10)

    def me(request):
        both_verified.wait()  # neither looks the user up before both have been verified
        return 200, {}, '{"id": "10228000000000001", "email": "grace@example.com", "name": "Grace Hopper"}'

    facebook.debug_token("EAAG-valid")
    facebook.rsps.add_callback("GET", facebook.me_url, callback=me)
    results = []

    def sign_in():
        try:
            results.append(APIClient().post(FACEBOOK_LOGIN_URL, {"access_token": "EAAG-valid"}, format="json"))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sign_in) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [r.status_code for r in results] == [200, 200], [r.content for r in results]
    assert {r.json()["user"]["id"] for r in results} == {str(User.objects.get().id)}
    assert sorted(r.json()["created"] for r in results) == [False, True]
    assert Wallet.objects.count() == 1
    assert SocialAccount.objects.count() == 1


def test_admin_offers_no_sign_in_app_or_token_pages_that_would_do_nothing():
    assert not admin.site.is_registered(SocialApp)
    assert not admin.site.is_registered(SocialToken)
    assert admin.site.is_registered(SocialAccount)  # which provider accounts a user signs in with
