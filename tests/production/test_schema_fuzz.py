"""Property-based requests to every operation in /api/schema/, valid and invalid, signed in and
not: every check Schemathesis has (no 5xx, every status and body as declared, content types and
headers as declared, invalid input refused, valid input accepted; see schemathesis.toml)."""

import re

import pytest
import responses
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from accounts.services import user_issue_tokens
from config.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)


@pytest.fixture
def providers_that_say_no(settings):
    """Configured providers whose servers refuse every token: logins get 401s, not 503s."""
    settings.GOOGLE_CLIENT_ID = "client.apps.googleusercontent.com"
    settings.FACEBOOK_APP_ID, settings.FACEBOOK_APP_SECRET = "1234", "fb-secret"
    settings.RAZORPAY_KEY_ID, settings.RAZORPAY_KEY_SECRET = "rzp_test_key", "rzp-secret"
    settings.RAZORPAY_WEBHOOK_SECRET = "whsec"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as internet:
        internet.add(
            responses.GET,
            re.compile(r"https://graph\.facebook\.com/.*oauth/access_token.*"),
            json={"access_token": "app-token", "token_type": "bearer"},
        )
        internet.add(
            responses.GET,
            re.compile(r"https://graph\.facebook\.com/.*debug_token.*"),
            json={"data": {"is_valid": False}},
        )
        refusal = {"error": {"code": "BAD_REQUEST_ERROR", "description": "invalid"}}
        for method in (responses.GET, responses.POST):
            internet.add(method, re.compile(r"https://.*"), json=refusal, status=400)
        yield


@pytest.fixture
def connection_kept_between_requests():
    """Requests go straight to the WSGI app, which closes the database connection after each one;
    the test's transaction lives on that connection, so keep it open as Django's test client does."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.parametrize()
# Derandomized: the same examples every run, so CI never flakes on a rare Schemathesis false positive
# (an extra query parameter whose empty value never reaches the wire, reported as accepted).
@settings(max_examples=50, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_every_operation_passes_every_check(case, user, providers_that_say_no, connection_kept_between_requests):
    token = user_issue_tokens(user=user)["access"]
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"})  # all checks
