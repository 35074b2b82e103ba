"""The operations dashboard in a real browser: reached from the index, its figures and both charts
drawn, nothing failing; a support user sees it too."""

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from accounts.models import User
from tests.browser.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, sign_in
from tests.operations.test_dashboard import add_activity

pytestmark = pytest.mark.django_db(transaction=True)  # the browser's server reads what the test committed


def test_the_dashboard_shows_the_day_and_draws_its_charts(page, superuser):
    add_activity()
    call_command("audit_ledger", verbosity=0)
    sign_in(page, ADMIN_EMAIL, ADMIN_PASSWORD)

    page.click("#operations-link a")
    page.wait_for_url("**/admin/operations/")

    money = page.locator("#money tbody tr").all_inner_texts()
    assert money[0].split("\t") == ["Top-ups (Razorpay)", "₹500.00 (1)", "₹500.00 (1)", "₹500.00 (1)"]
    assert "clean" in page.inner_text("#checks") and "not configured here" in page.inner_text("#checks")
    assert "stuck.mp3" in page.inner_text("#stuck")
    charts = page.locator("svg[role=img]")
    assert charts.count() == 2
    for index in range(2):
        box = charts.nth(index).bounding_box()
        assert box["width"] > 300 and box["height"] > 100  # laid out, not collapsed
    # Today's bar: the revenue of the day (₹3.00) as its tooltip, and drawn with a height.
    bar = charts.nth(0).locator("rect", has=page.locator("title", has_text="Revenue ₹3.00"))
    assert bar.count() == 1 and bar.bounding_box()["height"] > 10
    assert page.problems.seen == []


def test_support_staff_open_it_too(page):
    support = User.objects.create_user("support@example.com", "pw-support-browser-1", is_staff=True)
    support.groups.add(Group.objects.get(name="support"))
    sign_in(page, "support@example.com", "pw-support-browser-1")

    answer = page.goto("/admin/operations/")

    assert answer.status == 200 and page.locator("svg[role=img]").count() == 2
    assert page.problems.seen == []
