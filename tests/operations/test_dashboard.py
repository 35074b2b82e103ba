"""The operations dashboard: staff only; each figure from the ledger and the jobs in its window;
the charts' bars as tall as their figures; a fixed number of queries whatever the tables hold."""

import html
import re
import xml.etree.ElementTree as ET
from datetime import timedelta
from decimal import Decimal
from uuid import uuid4

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from operations.charts import BOTTOM, HEIGHT, TOP, Series, nice_ceiling, stacked_bars
from operations.dashboard import dashboard_build
from payments.models import ReconcileRun, Refund
from payments.services import refund_subject
from tests.factories import PaymentFactory, TranscriptionFactory, UserFactory
from tests.test_observability import REDIS_DOWN
from tests.wallet.conftest import fund
from transcriptions.models import Transcription, wallet_subject
from wallet.audit import wallet_audit_run
from wallet.models import AuditRun
from wallet.selectors import ledger_days
from wallet.services import wallet_adjust, wallet_capture, wallet_hold_money, wallet_refund, wallet_reserve
from webhooks.models import Delivery, Endpoint

pytestmark = pytest.mark.django_db
D = Decimal
SVG = "{http://www.w3.org/2000/svg}"


def charge(user, *, minutes: str, status=Transcription.Status.COMPLETED, **fields) -> Transcription:
    job = TranscriptionFactory(user=user, minutes=D(minutes), status=status, **fields)
    wallet_reserve(user=user, subject=wallet_subject(job.pk), minutes=job.billable_minutes)
    wallet_capture(subject=wallet_subject(job.pk))
    return job


def add_activity() -> User:
    """A day of everything the dashboard counts, for one user."""
    user = UserFactory()
    fund(user, balance=D("500.00"), demo_minutes=D("2.00"))  # a top-up of ₹500, 2 demo minutes
    charge(user, minutes="5.00")  # 2 demo minutes and ₹3
    refunded = charge(user, minutes="4.00", engine="openai")  # ₹4, given back below
    wallet_refund(subject=wallet_subject(refunded.pk), reason="garbled")
    wallet_adjust(wallet_id=user.wallet.pk, amount=D("25.50"), reason="goodwill")
    card = wallet_hold_money(user=user, subject=refund_subject(uuid4()), amount=D("50.00"))
    wallet_capture(subject=card.subject)  # ₹50 back to the card
    TranscriptionFactory(
        user=user, status=Transcription.Status.FAILED, engine="openai", error_code="transcription_engine_unavailable"
    )
    TranscriptionFactory(
        user=user,
        status=Transcription.Status.PROCESSING,
        audio_filename="stuck.mp3",
        deadline_at=timezone.now() - timedelta(minutes=5),
    )
    endpoint = Endpoint.objects.create(
        user=user, url="https://hooks.example.com/down", events=["transcription.completed"]
    )
    Endpoint.objects.create(
        user=user, url="https://hooks.example.com/off", events=[], disabled_at=timezone.now(), disabled_reason="410"
    )
    for status, attempts in ((Delivery.Status.PENDING, 2), (Delivery.Status.FAILED, 9)):
        Delivery.objects.create(
            user=user,
            endpoint=endpoint,
            url=endpoint.url,
            event_id=f"msg_{uuid4().hex}",
            event_type="transcription.completed",
            payload={},
            status=status,
            attempts=attempts,
            last_error="HTTP 503",
        )
    payment = PaymentFactory(order__user=user, flagged=True)
    Refund.objects.create(
        payment=payment, amount=D("80.00"), from_wallet=D("30.00"), flagged=True, source=Refund.Source.DASHBOARD
    )
    return user


@pytest.fixture
def staff_client() -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("admin@example.com", "pw-admin-1"))
    return client


def test_each_figure_is_counted_in_its_window():
    add_activity()
    call_command("audit_ledger", verbosity=0)

    now = dashboard_build()
    three_days_on = dashboard_build(now=timezone.now() + timedelta(days=3))
    ten_days_on = dashboard_build(now=timezone.now() + timedelta(days=10))
    forty_days_on = dashboard_build(now=timezone.now() + timedelta(days=40))

    today = now.ledger["today"]
    assert (today.top_ups, today.top_up_count, today.card_refunds) == (D("500.00"), 1, D("50.00"))
    assert (today.charged, today.charges_refunded, today.revenue) == (D("7.00"), D("4.00"), D("3.00"))
    assert (today.adjustments, today.paid_minutes, today.demo_minutes) == (D("25.50"), D("7.00"), D("2.00"))
    assert three_days_on.ledger["today"].revenue == 0 and three_days_on.ledger["7 days"].revenue == D("3.00")
    assert ten_days_on.ledger["7 days"].top_ups == 0 and ten_days_on.ledger["30 days"].top_ups == D("500.00")
    assert forty_days_on.ledger["30 days"].top_ups == 0
    assert [day.revenue for day in now.days] == [0] * 29 + [D("3.00")]

    jobs = {(row.status, row.label): (row.today, row.week, row.month) for row in now.jobs}
    assert jobs == {
        ("completed", "local"): (1, 1, 1),
        ("completed", "openai"): (1, 1, 1),
        ("failed", "openai"): (1, 1, 1),
        ("processing", "local"): (1, 1, 1),
    }
    assert [(row.label, row.week) for row in three_days_on.failures] == [("transcription_engine_unavailable", 1)]
    assert [(row.today, row.week, row.month) for row in ten_days_on.failures] == [(0, 0, 1)]
    assert [job.audio_filename for job in now.stuck] == ["stuck.mp3"] and not now.stuck_more
    assert [job.error_code for job in now.failed] == ["transcription_engine_unavailable"]
    assert [(url.url, url.retrying, url.failed, url.an_error) for url in now.failing_urls] == [
        ("https://hooks.example.com/down", 1, 1, "HTTP 503")
    ]
    assert [endpoint.url for endpoint in now.disabled_endpoints] == ["https://hooks.example.com/off"]
    assert len(now.flagged_payments) == 1 and [refund.shortfall for refund in now.refunds] == [D("50.00")]
    assert (now.audit.run.ok, now.audit.overdue) == (True, False)
    assert (now.reconcile.run, now.reconcile.enabled, now.reconcile.overdue) == (None, False, False)


def test_a_reconciliation_is_due_hourly_once_there_are_razorpay_keys(settings):
    settings.RAZORPAY_KEY_ID, settings.RAZORPAY_KEY_SECRET = "rzp_test_key", "secret"
    never = dashboard_build().reconcile
    ReconcileRun.objects.create(since=timezone.now(), until=timezone.now(), ok=True, summary="1 captured payments")
    fresh = dashboard_build().reconcile
    later = dashboard_build(now=timezone.now() + timedelta(hours=3)).reconcile

    assert (never.enabled, never.run, never.overdue) == (True, None, True)
    assert (fresh.run.ok, fresh.overdue) == (True, False)
    assert (later.run, later.overdue) == (fresh.run, True)  # two intervals went by without a run


def test_a_refund_unsettled_for_an_hour_is_listed_and_a_settled_one_is_not():
    payment = PaymentFactory()
    waiting = Refund.objects.create(payment=payment, amount=D("5.00"), from_wallet=D("5.00"), source="admin")
    Refund.objects.create(
        payment=payment, amount=D("6.00"), from_wallet=D("6.00"), source="admin", status=Refund.Status.PROCESSED
    )

    assert dashboard_build().refunds == []
    assert dashboard_build(now=timezone.now() + timedelta(minutes=61)).refunds == [waiting]


def test_the_page_shows_the_figures_the_checks_and_two_charts(staff_client):
    add_activity()
    call_command("audit_ledger", verbosity=0)

    page = staff_client.get("/admin/operations/")

    assert page.status_code == 200
    html = page.content.decode()
    assert "₹500.00 <span" in html and "₹3.00" in html and "₹25.50" in html
    assert "Ledger audit" in html and "clean" in html and "not configured here" in html
    assert "stuck.mp3" in html and "transcription_engine_unavailable" in html
    assert "https://hooks.example.com/down" in html and "https://hooks.example.com/off" in html
    assert 'aria-label="Transcription revenue a day, last 30 days"' in html
    assert 'aria-label="Minutes transcribed a day, last 30 days"' in html
    assert 'href="/admin/operations/"' in staff_client.get("/admin/").content.decode()


def test_the_page_makes_as_many_queries_for_many_rows_as_for_few(staff_client):
    add_activity()
    with CaptureQueriesContext(connection) as few:
        assert staff_client.get("/admin/operations/").status_code == 200
    for _ in range(3):
        add_activity()
    with CaptureQueriesContext(connection) as many:
        assert staff_client.get("/admin/operations/").status_code == 200

    assert len(many) == len(few), [query["sql"] for query in many]


@pytest.mark.parametrize("who", ["anonymous", "customer"])
def test_only_staff_see_it(who):
    client = Client()
    if who == "customer":
        client.force_login(UserFactory())

    page = client.get("/admin/operations/")

    assert (page.status_code, page["Location"]) == (302, "/admin/login/?next=/admin/operations/")


@pytest.mark.parametrize("group", ["support", "finance"])
def test_support_and_finance_see_it(group):
    staff = User.objects.create_user(f"{group}@example.com", "pw-staff-1", is_staff=True)
    staff.groups.add(Group.objects.get(name=group))
    client = Client()
    client.force_login(staff)

    assert client.get("/admin/operations/").status_code == 200
    assert 'href="/admin/operations/"' in client.get("/admin/").content.decode()


def test_staff_who_may_not_see_the_money_get_no_dashboard():
    clerk = User.objects.create_user("clerk@example.com", "pw-clerk-1", is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="view_transcription"))
    client = Client()
    client.force_login(clerk)

    assert client.get("/admin/operations/").status_code == 403
    assert "/admin/operations/" not in client.get("/admin/").content.decode()


@pytest.mark.parametrize(
    "value, ceiling",
    [("0", "1"), ("0.3", "0.5"), ("1", "1"), ("1.01", "2"), ("2.2", "2.5"), ("3", "5"), ("7", "10"), ("999", "1000")],
)
def test_the_axis_ends_on_a_round_number(value, ceiling):
    assert nice_ceiling(D(value)) == D(ceiling)


def test_each_bar_is_as_tall_as_its_figure_and_says_it():
    days = [timezone.now().date() - timedelta(days=n) for n in range(3, -1, -1)]
    svg = stacked_bars(
        title="Minutes <a day>",
        days=days,
        series=[Series("Paid", "#111", [D(1), D(0), D(4), D(2)]), Series("Demo", "#222", [D(1), D(3), D(0), D(1)])],
        show=str,
    )

    root = ET.fromstring(svg)  # noqa: S314 (our own markup): well-formed, the title escaped
    bars = [rect for rect in root.iter(f"{SVG}rect") if rect.find(f"{SVG}title") is not None]
    heights = {rect.find(f"{SVG}title").text.split(": ", 1)[1]: float(rect.get("height")) for rect in bars}
    plot = HEIGHT - TOP - BOTTOM
    assert root.get("aria-label") == "Minutes <a day>"
    assert len(bars) == 6  # zero parts are not drawn
    assert heights["Paid 4"] == pytest.approx(plot * 4 / 5, abs=0.1)  # the tallest stack (4) under a top of 5
    assert heights["Demo 3"] == pytest.approx(plot * 3 / 5, abs=0.1)


def test_days_long_over_are_read_once_and_today_each_time():
    add_activity()
    today = timezone.now().date()
    before = ledger_days(first=today - timedelta(days=29), last=today, now=timezone.now())
    # Move today's top-up three days back, which no code does: only the cache can hide it.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE wallet_transaction SET created_at = %s WHERE type = 'credit' AND amount > 0",
            [timezone.now() - timedelta(days=3)],
        )

    cached = ledger_days(first=today - timedelta(days=29), last=today, now=timezone.now())
    cache.clear()
    fresh = ledger_days(first=today - timedelta(days=29), last=today, now=timezone.now())

    assert before[-1].top_ups == D("500.00") and before[-4].top_ups == 0
    assert cached[-1].top_ups == 0 and cached[-4].top_ups == 0  # today live, the settled day as it was read
    assert fresh[-4].top_ups == D("500.00")


@pytest.mark.parametrize("ended_ago, kept", [(timedelta(minutes=5), False), (timedelta(minutes=15), True)])
def test_a_day_is_kept_once_it_has_been_over_ten_minutes(ended_ago, kept):
    today = timezone.now().date()
    midnight = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    yesterday = today - timedelta(days=1)

    ledger_days(first=yesterday, last=today, now=midnight + ended_ago)

    assert (cache.get(f"ledger-day:v1:{yesterday.isoformat()}") is not None) == kept
    assert cache.get(f"ledger-day:v1:{today.isoformat()}") is None  # the day that has not ended


def test_the_checks_say_running_finished_or_stopped(monkeypatch):
    AuditRun.objects.create()  # began a moment ago, not finished yet
    running = dashboard_build().audit
    overdue = dashboard_build(now=timezone.now() + timedelta(days=3)).audit

    monkeypatch.setattr("wallet.audit.wallet_audit", lambda: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        wallet_audit_run()
    crashed = dashboard_build().audit

    assert (running.state, running.tone) == ("running", "")
    assert (overdue.state, overdue.tone) == ("did not finish", "bad")
    assert (crashed.state, crashed.tone, crashed.run.summary) == (
        "could not run",
        "bad",
        "ZeroDivisionError: division by zero",
    )


def test_the_link_to_every_stuck_job_lists_pending_and_processing_ones_past_their_deadline(staff_client):
    past = timezone.now() - timedelta(minutes=5)
    for status in ("pending", "processing"):
        for n in range(6):
            TranscriptionFactory(status=status, audio_filename=f"stuck-{status}-{n}.mp3", deadline_at=past)
    TranscriptionFactory(status="pending", audio_filename="on-time.mp3", deadline_at=past + timedelta(hours=1))

    page = staff_client.get("/admin/operations/").content.decode()
    link = html.unescape(re.search(r'href="([^"]+)">All stuck jobs', page)[1])
    listed = staff_client.get(link).content.decode()

    assert len(set(re.findall(r"stuck-(?:pending|processing)-\d", listed))) == 12
    assert "on-time.mp3" not in listed


def test_a_day_that_gave_back_more_than_it_earned_draws_its_bar_below_zero():
    days = [timezone.now().date() - timedelta(days=n) for n in range(1, -1, -1)]
    svg = stacked_bars(title="Revenue", days=days, series=[Series("Revenue", "#111", [D(4), D(-2)])], show=str)

    root = ET.fromstring(svg)  # noqa: S314 (our own markup)
    bars = {rect.find(f"{SVG}title").text.split(": ", 1)[1]: rect for rect in root.iter(f"{SVG}rect") if len(rect)}
    labels = [text.text for text in root.iter(f"{SVG}text")]
    plot = HEIGHT - TOP - BOTTOM  # from +5 down to -2: a span of 7
    up, down = bars["Revenue 4"], bars["Revenue -2"]
    zero = float(up.get("y")) + float(up.get("height"))
    assert float(down.get("y")) == pytest.approx(zero, abs=0.1)  # hangs from the zero line
    assert float(down.get("height")) == pytest.approx(plot * 2 / 7, abs=0.1)
    assert float(up.get("height")) == pytest.approx(plot * 4 / 7, abs=0.1)
    assert "-2" in labels and "0" in labels


def test_with_the_cache_down_the_page_sums_every_day_from_the_database(staff_client):
    add_activity()
    with override_settings(CACHES=REDIS_DOWN):
        page = staff_client.get("/admin/operations/")
        days = dashboard_build(now=timezone.now() + timedelta(days=1)).days  # yesterday now settled: not kept

    assert page.status_code == 200 and "₹500.00 <span" in page.content.decode()
    assert days[-2].top_ups == D("500.00")
