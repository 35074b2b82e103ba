"""Every admin action in a real browser, through its confirmation form: retry, queue again, stop and
refund transcriptions, refund a payment to its card, disable and enable a webhook endpoint. Each is
checked by the message shown, the owner's view through the API, the ledger where money moves, and
the admin log; a flagged payment marked as dealt with; then which money actions the finance and
support roles are offered."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from accounts.models import User
from payments.models import Payment, Refund
from tests.browser.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, action_names, logged, run_action, sign_in
from tests.conftest import client_for
from tests.factories import PaymentFactory, UserFactory
from tests.payments.test_refunds import razorpay_refunds
from tests.transcriptions.fake_openai import error, transcript
from transcriptions.models import Transcription
from transcriptions.services import transcription_create
from wallet.models import Transaction
from wallet.services import wallet_adjust, wallet_credit
from webhooks.models import Endpoint

pytestmark = pytest.mark.django_db(transaction=True)  # the browser's server reads what the test committed

JOBS = "/admin/transcriptions/transcription/"
PAYMENTS = "/admin/payments/payment/"
ENDPOINTS = "/admin/webhooks/endpoint/"
WALLETS = "/admin/wallet/wallet/"


@pytest.fixture
def payer() -> User:
    """A user who paid ₹100 through Razorpay (credited to the wallet) and has no demo minutes left,
    so whatever is transcribed costs money."""
    user = UserFactory()
    payment = PaymentFactory(order__user=user)
    wallet_credit(user=user, amount=payment.order.amount, payment_id=payment.razorpay_payment_id)
    wallet_adjust(wallet_id=user.wallet.pk, demo_minutes=-user.wallet.demo_minutes_remaining, reason="Used up")
    return user


@pytest.fixture
def audio(payer, make_audio_file, ninety_seconds_wav):
    """90 s of speech: 1.50 billable minutes, ₹1.50."""
    return make_audio_file(payer, ninety_seconds_wav)


def stuck(settings, audio, *, status: str) -> Transcription:
    """A paid job (its cost held) that no worker took, or whose worker died, now past its deadline."""
    settings.CELERY_TASK_ALWAYS_EAGER, settings.CELERY_BROKER_URL = False, "memory://"
    job, _ = transcription_create(user=audio.user, audio_file_id=audio.pk)
    settings.CELERY_TASK_ALWAYS_EAGER = True  # what the admin queues runs at once, as a worker would take it
    past = timezone.now() - timedelta(minutes=5)
    Transcription.objects.filter(pk=job.pk).update(
        status=status, run_id="lost-worker" if status == "processing" else "", deadline_at=past
    )
    return Transcription.objects.get(pk=job.pk)


def ledger(user: User) -> set[int]:
    return set(Transaction.objects.filter(wallet__user=user).values_list("pk", flat=True))


def new_lines(user: User, before: set[int]) -> list[Transaction]:
    return list(Transaction.objects.filter(wallet__user=user).exclude(pk__in=before))


def test_retrying_a_failed_transcription_runs_and_charges_a_new_job(page, superuser, payer, audio, fake_openai):
    fake_openai.respond = lambda request: error(500)
    failed, _ = transcription_create(user=payer, audio_file_id=audio.pk)
    fake_openai.respond = transcript
    before = ledger(payer)
    sign_in(page, ADMIN_EMAIL, ADMIN_PASSWORD)

    message = run_action(page, JOBS, failed.pk, "retry", reason="Provider outage over")

    retried = Transcription.objects.exclude(pk=failed.pk).get()
    assert f"retried as {retried.pk} (completed)." in message
    api = client_for(payer)
    job = api.get(f"/api/transcriptions/{retried.pk}/").json()
    assert (job["status"], job["amount"]) == ("completed", "1.50")
    assert job["text"].startswith("First half of")  # what the fake OpenAI answered
    assert api.get(f"/api/transcriptions/{failed.pk}/").json()["status"] == "failed"
    wallet = api.get("/api/wallet/details/").json()
    assert (wallet["balance"], wallet["held"], wallet["total_spent"]) == ("98.50", "0.00", "1.50")
    [line] = new_lines(payer, before)
    assert (line.type, line.amount, line.subject_id) == ("debit", Decimal("-1.50"), str(retried.pk))
    assert logged(failed) == [f"Retry: retried as {retried.pk} (completed). Reason: Provider outage over"]
    assert page.problems.seen == []


def test_queueing_a_stuck_job_again_gets_it_done_and_charged_once(page, superuser, payer, audio, fake_openai, settings):
    job = stuck(settings, audio, status="pending")
    before = ledger(payer)
    sign_in(page, ADMIN_EMAIL, ADMIN_PASSWORD)

    message = run_action(page, JOBS, job.pk, "requeue", reason="Queued while the workers were down")

    assert "queued again (1 time(s) now)." in message
    api = client_for(payer)
    assert api.get(f"/api/transcriptions/{job.pk}/").json()["status"] == "completed"
    wallet = api.get("/api/wallet/details/").json()
    assert (wallet["balance"], wallet["held"]) == ("98.50", "0.00")
    [line] = new_lines(payer, before)
    assert (line.type, line.amount, line.subject_id) == ("debit", Decimal("-1.50"), str(job.pk))
    assert Transcription.objects.get(pk=job.pk).requeues == 1
    assert logged(job) == ["Queue again: queued again (1 time(s) now). Reason: Queued while the workers were down"]
    assert page.problems.seen == []


def test_stopping_a_stuck_job_fails_it_and_releases_its_hold(page, superuser, payer, audio, fake_openai, settings):
    job = stuck(settings, audio, status="processing")
    api = client_for(payer)
    assert api.get("/api/wallet/details/").json()["held"] == "1.50"
    before = ledger(payer)
    sign_in(page, ADMIN_EMAIL, ADMIN_PASSWORD)

    message = run_action(page, JOBS, job.pk, "stop", reason="Its worker died")

    # Named as it was when selected, after its kind (the admin capitalises the first letter).
    assert message == f"Transcription {audio.original_filename} (processing): stopped: failed, its hold released."
    stopped = api.get(f"/api/transcriptions/{job.pk}/").json()
    assert (stopped["status"], stopped["error_code"]) == ("failed", "transcription_stopped")
    wallet = api.get("/api/wallet/details/").json()
    assert (wallet["balance"], wallet["held"], wallet["available"]) == ("100.00", "0.00", "100.00")
    assert new_lines(payer, before) == []  # nothing charged
    assert logged(job) == ["Stop: stopped: failed, its hold released. Reason: Its worker died"]
    assert page.problems.seen == []


def test_refunding_a_charged_transcription_gives_its_cost_back_once(page, superuser, payer, audio, fake_openai):
    job, _ = transcription_create(user=payer, audio_file_id=audio.pk)
    api = client_for(payer)
    assert (job.status, api.get("/api/wallet/details/").json()["balance"]) == ("completed", "98.50")
    before = ledger(payer)
    sign_in(page, ADMIN_EMAIL, ADMIN_PASSWORD)

    message = run_action(page, JOBS, job.pk, "refund_transcriptions", reason="Transcript was garbled")

    assert "refunded ₹1.50 and 0.00 demo minutes." in message
    wallet = api.get("/api/wallet/details/").json()
    assert (wallet["balance"], wallet["total_spent"]) == ("100.00", "0.00")
    latest = api.get("/api/wallet/transactions/").json()["results"][0]
    assert (latest["type"], latest["amount"], latest["transcription"]) == ("refund", "1.50", str(job.pk))
    [line] = new_lines(payer, before)
    assert (line.type, line.amount, line.description, line.created_by.email) == (
        "refund",
        Decimal("1.50"),
        "Transcript was garbled",
        ADMIN_EMAIL,
    )
    assert logged(job) == ["Refund: refunded ₹1.50 and 0.00 demo minutes. Reason: Transcript was garbled"]
    assert page.problems.seen == []


def test_refunding_a_payment_pays_the_card_back_out_of_the_wallet(page, superuser, payer, razorpay_api):
    payment = Payment.objects.get(order__user=payer)
    asked = razorpay_refunds(razorpay_api, status="processed")
    before = ledger(payer)
    sign_in(page, ADMIN_EMAIL, ADMIN_PASSWORD)

    message = run_action(page, PAYMENTS, payment.pk, "refund", amount="40.00", reason="Customer asked")

    assert "refund of ₹40.00 processed" in message
    refund = Refund.objects.get(payment=payment)
    assert (refund.amount, refund.status, refund.source, refund.reason, refund.created_by.email) == (
        Decimal("40.00"),
        "processed",
        "admin",
        "Customer asked",
        ADMIN_EMAIL,
    )
    assert [(body["amount"], body["receipt"]) for body in asked] == [(4000, str(refund.pk))]
    wallet = client_for(payer).get("/api/wallet/details/").json()
    assert (wallet["balance"], wallet["held"], wallet["total_refunded"]) == ("60.00", "0.00", "40.00")
    [line] = new_lines(payer, before)
    assert (line.type, line.amount) == ("refund", Decimal("-40.00"))
    assert logged(payment) == [
        "Refund to the card: refund of ₹40.00 processed: paid back to the card, out of the wallet. "
        "Reason: Customer asked"
    ]
    assert page.problems.seen == []


def test_disabling_then_enabling_a_webhook_endpoint_shows_in_its_owners_api(page, superuser, payer):
    endpoint = Endpoint.objects.create(
        user=payer, url="https://hooks.example.com/in", events=["transcription.completed"]
    )
    api = client_for(payer)
    sign_in(page, ADMIN_EMAIL, ADMIN_PASSWORD)

    disabled = run_action(page, ENDPOINTS, endpoint.pk, "disable", reason="Answers 500 to everything")
    seen_disabled = api.get(f"/api/webhooks/{endpoint.pk}/").json()
    enabled = run_action(page, ENDPOINTS, endpoint.pk, "enable", reason="Fixed on their side")
    seen_enabled = api.get(f"/api/webhooks/{endpoint.pk}/").json()

    assert "hooks.example.com/in: disabled." in disabled
    assert seen_disabled["disabled_at"] is not None
    assert seen_disabled["disabled_reason"] == "Disabled by an admin: Answers 500 to everything"
    assert "hooks.example.com/in: enabled: events from now on are sent." in enabled
    assert (seen_enabled["disabled_at"], seen_enabled["disabled_reason"]) == (None, "")
    assert logged(endpoint) == [
        "Disable: disabled. Reason: Answers 500 to everything",
        "Enable: enabled: events from now on are sent. Reason: Fixed on their side",
    ]
    assert page.problems.seen == []


def staff(email: str, role: str) -> User:
    user = User.objects.create_user(email, "pw-staff-browser-1", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


def test_finance_staff_are_offered_every_money_action_and_nothing_else(page, customer):
    sign_in(page, staff("finance@example.com", "finance").email, "pw-staff-browser-1")

    assert action_names(page, WALLETS) == {"credit_or_adjust"}
    assert action_names(page, JOBS) == {"refund_transcriptions"}
    assert action_names(page, PAYMENTS) == {"refund", "mark_reviewed"}
    assert action_names(page, "/admin/payments/refund/") == {"mark_reviewed"}
    assert action_names(page, ENDPOINTS) == set()
    assert page.problems.seen == []


def test_support_staff_see_payments_but_cannot_refund_them(page, customer):
    sign_in(page, staff("support@example.com", "support").email, "pw-staff-browser-1")
    payment = Payment.objects.get(order__user=customer)

    actions = action_names(page, PAYMENTS)

    assert payment.razorpay_payment_id in page.inner_text("#result_list")
    assert actions == set()
    assert page.problems.seen == []


def test_a_flagged_payment_dealt_with_leaves_the_dashboard(page, superuser):
    flagged = PaymentFactory(flagged=True)
    sign_in(page, ADMIN_EMAIL, ADMIN_PASSWORD)
    page.goto("/admin/operations/")
    assert flagged.razorpay_payment_id in page.inner_text("#payments")

    message = run_action(page, PAYMENTS, flagged.pk, "mark_reviewed", reason="Credited by hand after a call")

    assert "marked as dealt with; it stays flagged" in message
    page.goto("/admin/operations/")
    assert flagged.razorpay_payment_id not in page.inner_text("#payments")
    flagged.refresh_from_db()
    assert (flagged.flagged, flagged.review_note) == (True, "Credited by hand after a call")
    assert logged(flagged) == [
        "Dealt with: marked as dealt with; it stays flagged, so nothing credits or refunds it on its own. "
        "Reason: Credited by hand after a call"
    ]
    assert page.problems.seen == []
