"""The admin's sign-in locked after repeated wrong passwords, as the person at the keyboard sees it."""

import pytest
from django.conf import settings
from playwright.sync_api import Page

from tests.browser.conftest import ADMIN_EMAIL, ADMIN_PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)  # the browser's server reads what the test committed


def submit(page: Page, password: str) -> int:
    page.goto("/admin/login/")
    page.fill("#id_username", ADMIN_EMAIL)
    page.fill("#id_password", password)
    with page.expect_response("**/admin/login/") as answer:
        page.click("input[type=submit]")
    return answer.value.status


def test_after_five_wrong_passwords_the_right_one_meets_the_lockout_page(page, superuser):
    failures = [submit(page, f"wrong-{attempt}") for attempt in range(settings.AXES_FAILURE_LIMIT)]

    status = submit(page, ADMIN_PASSWORD)

    assert failures == [200] * (settings.AXES_FAILURE_LIMIT - 1) + [429]
    assert status == 429
    assert "Too many failed sign-ins" in page.text_content(".errornote")
    assert "Transcription service" in page.text_content("#site-name")  # the admin's look, its styles loaded
    assert page.eval_on_selector("#header", "el => getComputedStyle(el).display") != "none"
    # Nothing failed but the two refusals themselves (the answer, and the console saying so).
    assert [problem for problem in page.problems.seen if "429" not in problem] == []
