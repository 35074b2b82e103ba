"""The admin's password sign-in, over HTTP: locked by account and by address after AXES_FAILURE_LIMIT
(5) failures, logged, listed in the admin, and open again once the cool-off is over."""

import logging
from datetime import timedelta

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.conf import settings
from django.contrib.auth.models import Group
from django.test import Client, override_settings
from django.utils import timezone

from accounts.models import User

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"
PASSWORD = "pw-staff-right-1"
ATTACKER, ELSEWHERE, PROXY = "203.0.113.7", "198.51.100.23", "10.0.0.2"


@pytest.fixture
def staff() -> User:
    return User.objects.create_superuser("boss@example.com", PASSWORD)


def sign_in(email: str, password: str, ip: str = ATTACKER, **headers: str):
    return Client().post(LOGIN, {"username": email, "password": password, "next": "/admin/"}, REMOTE_ADDR=ip, **headers)


def signed_in(response) -> bool:
    return response.status_code == 302 and response["Location"] == "/admin/"


def fail_until_locked(email: str, ip: str = ATTACKER) -> None:
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        response = sign_in(email, f"wrong-{attempt}", ip)
        assert response.status_code == (429 if attempt == settings.AXES_FAILURE_LIMIT - 1 else 200)


def test_five_wrong_passwords_lock_the_account_even_against_the_right_one(staff):
    fail_until_locked(staff.email)

    locked = sign_in(staff.email, PASSWORD)

    assert locked.status_code == 429
    assert locked["Retry-After"] == "3600"
    page = locked.content.decode()
    assert "Too many failed sign-ins" in page and "for 1\xa0hour" in page  # timeuntil keeps "1 hour" on one line
    assert "Transcription service" in page  # the admin's own page, not a bare text
    assert "_auth_user_id" not in locked.wsgi_request.session


def test_a_locked_account_is_locked_from_every_other_address_too(staff):
    fail_until_locked(staff.email)

    assert sign_in(staff.email, PASSWORD, ip=ELSEWHERE).status_code == 429


def test_spellings_of_one_email_count_against_one_account(staff):
    for attempt, spelling in enumerate(
        ["Boss@Example.com", "BOSS@example.com ", "boss@EXAMPLE.COM", "bOss@example.com"]
    ):
        sign_in(spelling, f"wrong-{attempt}", ip=f"198.51.100.{attempt + 1}")
    sign_in(staff.email, "wrong-again", ip="198.51.100.9")

    assert sign_in(staff.email, PASSWORD, ip=ELSEWHERE).status_code == 429


def test_one_address_trying_many_accounts_is_locked_whichever_it_tries_next(staff):
    others = [User.objects.create_user(f"staff{n}@example.com", PASSWORD, is_staff=True) for n in range(5)]
    for other in others:
        sign_in(other.email, "wrong")

    assert sign_in(staff.email, PASSWORD).status_code == 429
    # Each of those accounts failed once: from another address it signs in.
    assert signed_in(sign_in(others[0].email, PASSWORD, ip=ELSEWHERE))


def test_fewer_failures_than_the_limit_lock_nothing(staff):
    for attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(staff.email, f"wrong-{attempt}")

    assert signed_in(sign_in(staff.email, PASSWORD))


@override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, "NUM_PROXIES": 1})
def test_behind_the_proxy_the_client_is_the_address_the_proxy_appended(staff):
    others = [User.objects.create_user(f"staff{n}@example.com", PASSWORD, is_staff=True) for n in range(5)]
    # Everyone arrives from the proxy; the attacker forges a different first address each time.
    for n, other in enumerate(others):
        sign_in(other.email, "wrong", ip=PROXY, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}, {ATTACKER}")

    assert sign_in(staff.email, PASSWORD, ip=PROXY, HTTP_X_FORWARDED_FOR=ATTACKER).status_code == 429
    # Someone else behind the same proxy is not the attacker.
    assert signed_in(sign_in(staff.email, PASSWORD, ip=PROXY, HTTP_X_FORWARDED_FOR=ELSEWHERE))
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {ATTACKER}


def test_after_the_cool_off_the_right_password_signs_in_and_forgets_the_failures(staff):
    fail_until_locked(staff.email)
    AccessAttempt.objects.update(attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1))

    assert signed_in(sign_in(staff.email, PASSWORD))
    assert not AccessAttempt.objects.exists()
    sign_in(staff.email, "one-slip")
    assert signed_in(sign_in(staff.email, PASSWORD))  # counting starts again from nothing


def test_each_try_while_locked_starts_the_cool_off_again(staff):
    fail_until_locked(staff.email)
    AccessAttempt.objects.update(attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME + timedelta(minutes=1))

    assert sign_in(staff.email, PASSWORD).status_code == 429
    assert AccessAttempt.objects.get().attempt_time > timezone.now() - timedelta(minutes=1)


def test_a_lockout_is_logged_with_its_account_and_address(staff, caplog):
    with caplog.at_level(logging.WARNING, logger="axes"):
        fail_until_locked(staff.email)

    [lockout] = [record for record in caplog.records if "Locking out" in record.getMessage()]
    assert lockout.levelno == logging.WARNING
    assert staff.email in lockout.getMessage() and ATTACKER in lockout.getMessage()
    assert "wrong-" not in caplog.text  # no password in any line


def test_a_lockout_is_listed_in_the_admin_for_a_superuser(staff):
    fail_until_locked(staff.email)
    admin = Client()
    admin.force_login(User.objects.create_superuser("root@example.com", "pw-root-1"))

    attempts = admin.get("/admin/axes/accessattempt/?locked_out=yes")
    failures = admin.get("/admin/axes/accessfailurelog/?locked_out__exact=1")

    assert attempts.status_code == failures.status_code == 200
    assert staff.email in attempts.content.decode() and ATTACKER in attempts.content.decode()
    assert "Locked Out" in attempts.content.decode()
    assert staff.email in failures.content.decode()
    assert AccessFailureLog.objects.filter(username=staff.email, locked_out=True).count() == 1
    assert "wrong-" not in AccessAttempt.objects.get().post_data  # passwords are masked


def staff_in(group: str) -> Client:
    user = User.objects.create_user(f"{group}@example.com", "pw-staff-1", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    client = Client()
    client.force_login(user)
    return client


def test_support_sees_lockouts_but_cannot_lift_them(staff):
    fail_until_locked(staff.email)
    attempt = AccessAttempt.objects.get()
    support = staff_in("support")

    listed = support.get("/admin/axes/accessattempt/")
    lifted = support.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"})

    assert listed.status_code == 200 and staff.email in listed.content.decode()
    assert 'value="delete_selected"' not in listed.content.decode()
    assert lifted.status_code == 403 and AccessAttempt.objects.filter(pk=attempt.pk).exists()
    assert support.get("/admin/axes/accesslog/").status_code == 200
    assert support.get("/admin/axes/accessfailurelog/").status_code == 200


def test_finance_does_not_see_sign_in_attempts():
    assert staff_in("finance").get("/admin/axes/accessattempt/").status_code == 403


def test_a_superuser_lifts_a_lockout_by_deleting_its_attempts(staff):
    fail_until_locked(staff.email)
    admin = Client()
    admin.force_login(User.objects.create_superuser("root@example.com", "pw-root-1"))

    admin.post(
        "/admin/axes/accessattempt/",
        {
            "action": "delete_selected",
            "_selected_action": list(AccessAttempt.objects.values_list("pk", flat=True)),
            "post": "yes",
        },
    )

    assert signed_in(sign_in(staff.email, PASSWORD))
