"""Property-based requests to every operation in /api/schema/, signed in: no 5xx, and every
response matches the schema."""

import re

import pytest
import responses
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from accounts.services import user_issue_tokens
from config.wsgi import application

CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


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
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors_and_responses_match_the_schema(
    case, user, providers_that_say_no, connection_kept_between_requests
):
    token = user_issue_tokens(user=user)["access"]
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
