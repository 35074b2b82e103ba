from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
import requests
from django.core.management import CommandError, call_command
from responses import matchers

from payments import razorpay_client
from payments.models import Payment, ReconcileRun
from payments.tasks import reconcile as reconcile_task
from tests.payments.fakes import BASE_URL, new_payment_id, payment_entity, post_webhook, verify_body, webhook_event
from wallet.models import Transaction

PAYMENTS_URL = f"{BASE_URL}/v1/payments"


def reconcile(*args: str) -> str:
    out = StringIO()
    call_command("reconcile_payments", *args, stdout=out)
    return out.getvalue()


def listing(*entities: dict) -> dict:
    return {"entity": "collection", "count": len(entities), "items": list(entities)}


def credited(user) -> list[Decimal]:
    return sorted(
        Transaction.objects.filter(wallet__user=user, payment_id__isnull=False).values_list("amount", flat=True)
    )


@pytest.mark.django_db
def test_reconcile_credits_what_we_missed_reports_the_rest_and_is_safe_to_repeat(
    api_client, user, make_order, razorpay_api, no_refunds
):
    missed, verified, tampered = make_order(user, "10.00"), make_order(user, "20.00"), make_order(user, "30.00")
    missed_payment, verified_payment, tampered_payment = new_payment_id(), new_payment_id(), new_payment_id()
    api_client.post(
        "/api/wallet/verify_payment/", verify_body(verified.razorpay_order_id, verified_payment), format="json"
    )
    razorpay_api.get(
        PAYMENTS_URL,
        json=listing(
            payment_entity(payment_id=missed_payment, order_id=missed.razorpay_order_id, amount_paise=1000),
            payment_entity(payment_id=verified_payment, order_id=verified.razorpay_order_id, amount_paise=2000),
            payment_entity(payment_id=tampered_payment, order_id=tampered.razorpay_order_id, amount_paise=3),
            payment_entity(payment_id="pay_elsewhere0001", order_id="order_elsewhere01", amount_paise=700),
            payment_entity(
                payment_id="pay_failed0000001", order_id=missed.razorpay_order_id, amount_paise=1000, status="failed"
            ),
        ),
    )

    header, *lines = reconcile("--since", "2d").splitlines()

    assert header.startswith("Razorpay payments captured from ")
    assert header.endswith("UTC: 4")
    assert lines == [
        f"  {missed_payment}  {missed.razorpay_order_id}  INR 10.00  credited",
        f"  {verified_payment}  {verified.razorpay_order_id}  INR 20.00  already credited",
        f"  {tampered_payment}  {tampered.razorpay_order_id}  INR 0.03  "
        "flagged: amount differs from the order, not credited",
        "  pay_elsewhere0001  order_elsewhere01  INR 7.00  unknown order, not credited",
        "credited: 1, already credited: 1, flagged: 1, unknown order: 1",
        "Refunds differing from Razorpay's (now applied): 0",
    ]
    assert credited(user) == [Decimal("10.00"), Decimal("20.00")]
    assert Payment.objects.get(razorpay_payment_id=tampered_payment).flagged

    second = reconcile("--since", "2d")

    assert second.splitlines()[-2] == "credited: 0, already credited: 2, flagged: 1, unknown order: 1"
    assert credited(user) == [Decimal("10.00"), Decimal("20.00")]
    # Each run is kept for the dashboard, with what differed (never what agreed).
    first_run, second_run = ReconcileRun.objects.order_by("started_at")
    assert (first_run.ok, first_run.payments_seen, first_run.credited, first_run.needs_attention) == (False, 4, 1, 2)
    assert first_run.report.splitlines() == [lines[0].strip(), lines[2].strip(), lines[3].strip()]
    assert first_run.summary == "4 captured payments: 1 credited only now, 2 need attention; 0 refunds differed"
    assert (second_run.ok, second_run.credited, second_run.needs_attention) == (False, 0, 2)


@pytest.mark.django_db
def test_reconcile_after_a_webhook_credits_nothing_more(client, user, order, razorpay_api, no_refunds):
    payment_id = new_payment_id()
    entity = payment_entity(payment_id=payment_id, order_id=order.razorpay_order_id, amount_paise=order.amount_paise)
    post_webhook(client, webhook_event("payment.captured", entity), event_id="evt_1")
    razorpay_api.get(PAYMENTS_URL, json=listing(entity))

    out = reconcile()

    assert "already credited" in out
    assert credited(user) == [Decimal("100.00")]
    run = ReconcileRun.objects.get()
    assert (run.ok, run.payments_seen, run.report) == (True, 1, "")


@pytest.mark.django_db
def test_beat_reconciles_the_last_window_and_keeps_the_run(user, order, razorpay_api, no_refunds, settings):
    settings.PAYMENTS_RECONCILE_WINDOW_HOURS = 6
    entity = payment_entity(payment_id=new_payment_id(), order_id=order.razorpay_order_id, amount_paise=10000)
    listed = razorpay_api.get(PAYMENTS_URL, json=listing(entity))

    reconcile_task.delay()

    query = listed.calls[0].request.params
    assert int(query["to"]) - int(query["from"]) == 6 * 3600
    run = ReconcileRun.objects.get()
    assert (run.ok, run.credited, run.until - run.since) == (False, 1, timedelta(hours=6))
    assert credited(user) == [Decimal("100.00")]


@pytest.mark.django_db
def test_beat_without_razorpay_keys_keeps_no_run(settings):
    reconcile_task.delay()

    assert not ReconcileRun.objects.exists()


@pytest.mark.django_db
def test_reconcile_asks_for_the_window_page_by_page(user, make_order, razorpay_api, monkeypatch, no_refunds):
    monkeypatch.setattr(razorpay_client, "LIST_PAGE_SIZE", 2)
    orders = [make_order(user, "1.00") for _ in range(3)]
    entities = [
        payment_entity(payment_id=new_payment_id(), order_id=order.razorpay_order_id, amount_paise=100)
        for order in orders
    ]
    pages = [
        razorpay_api.get(
            PAYMENTS_URL,
            json=listing(*entities[:2]),
            match=[matchers.query_param_matcher({"count": "2", "skip": "0"}, strict_match=False)],
        )
    ]
    pages.append(
        razorpay_api.get(
            PAYMENTS_URL,
            json=listing(entities[2]),
            match=[matchers.query_param_matcher({"count": "2", "skip": "2"}, strict_match=False)],
        )
    )

    out = reconcile("--since", "12h")

    assert out.splitlines()[-2] == "credited: 3, already credited: 0, flagged: 0, unknown order: 0"
    assert [page.call_count for page in pages] == [1, 1]
    query = pages[0].calls[0].request.params
    assert int(query["to"]) - int(query["from"]) == 12 * 3600
    assert pages[0].calls[0].request.req_kwargs["timeout"] == 3.0


@pytest.mark.django_db
@pytest.mark.parametrize("since", ["2", "d", "-2d", "0d", "2y", "1.5h", ""])
def test_reconcile_refuses_a_window_it_cannot_read(since, razorpay_api):
    with pytest.raises(CommandError, match="--since"):
        reconcile("--since", since)


@pytest.mark.django_db
def test_reconcile_without_keys_says_so(settings):
    with pytest.raises(CommandError, match="payments_not_configured"):
        reconcile()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "answer",
    [
        {"status": 500, "body": "oops", "content_type": "text/plain"},
        {"body": requests.exceptions.ReadTimeout()},
        {"json": {"entity": "collection"}},
        {"json": listing({"id": "pay_1", "amount": 1.5, "currency": "INR", "status": "captured"})},
    ],
)
def test_reconcile_with_razorpay_failing_credits_nothing_and_says_so(user, order, razorpay_api, answer):
    razorpay_api.get(PAYMENTS_URL, **answer)

    with pytest.raises(CommandError, match="payment_provider_unavailable"):
        reconcile()
    reconcile_task.delay()  # beat's run says so too, and raises nothing

    assert credited(user) == []
    runs = ReconcileRun.objects.all()
    assert [(run.ok, run.summary.split(":")[0]) for run in runs] == [(None, "payment_provider_unavailable")] * 2
