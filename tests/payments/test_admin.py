import re

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.utils import timezone

from accounts.services import user_create
from payments.models import Payment, Refund, WebhookEvent
from payments.selectors import payment_flagged, refund_needing_attention
from tests.payments.fakes import new_payment_id, payment_entity, post_webhook, webhook_event
from tests.payments.test_refunds import paid_by, razorpay_refunds
from wallet.models import Transaction, Wallet


@pytest.fixture
def admin_client(db) -> Client:
    client = Client()
    client.force_login(user_create(email="admin@example.com", password="pw-admin-1", is_staff=True, is_superuser=True))
    return client


@pytest.mark.django_db
def test_admin_finds_orders_and_payments_by_id_and_status(admin_client, client, user, make_order):
    paid, open_order = make_order(user, "10.00"), make_order(user, "20.00")
    payment_id, flagged_id = new_payment_id(), new_payment_id()
    post_webhook(
        client,
        webhook_event(
            "payment.captured",
            payment_entity(payment_id=payment_id, order_id=paid.razorpay_order_id, amount_paise=1000),
        ),
    )
    post_webhook(
        client,
        webhook_event(
            "payment.captured",
            payment_entity(payment_id=flagged_id, order_id=open_order.razorpay_order_id, amount_paise=1),
        ),
    )

    by_status = admin_client.get("/admin/payments/order/", {"status__exact": "paid"}).content.decode()
    by_payment = admin_client.get("/admin/payments/order/", {"q": payment_id}).content.decode()
    flagged = admin_client.get("/admin/payments/payment/", {"flagged__exact": "1"}).content.decode()
    by_order = admin_client.get("/admin/payments/payment/", {"q": open_order.razorpay_order_id}).content.decode()

    assert paid.razorpay_order_id in by_status and open_order.razorpay_order_id not in by_status
    assert paid.razorpay_order_id in by_payment and open_order.razorpay_order_id not in by_payment
    assert flagged_id in flagged and payment_id not in flagged
    assert flagged_id in by_order and payment_id not in by_order


@pytest.mark.django_db
def test_admin_shows_webhook_events_read_only(admin_client, client, razorpay_keys):
    post_webhook(client, {"event": "refund.processed", "payload": {}}, event_id="evt_admin")
    event = WebhookEvent.objects.get(event_id="evt_admin")
    url = f"/admin/payments/webhookevent/{event.pk}/change/"

    assert "evt_admin" in admin_client.get("/admin/payments/webhookevent/", {"q": "evt_admin"}).content.decode()
    assert admin_client.get(url).status_code == 200
    assert admin_client.post(url, {"event": "changed"}).status_code == 403
    assert admin_client.get("/admin/payments/webhookevent/add/").status_code == 403
    assert WebhookEvent.objects.get(pk=event.pk).event == "refund.processed"


@pytest.mark.django_db
def test_admin_refunds_a_payment_through_its_confirmation_form(admin_client, client, user, make_order, razorpay_api):
    payment = paid_by(user, make_order)
    asked = razorpay_refunds(razorpay_api, status="processed")
    url = "/admin/payments/payment/"
    selected = {"action": "refund", "_selected_action": [str(payment.pk)]}

    form = admin_client.post(url, selected)
    done = admin_client.post(
        url, {**selected, "apply": "1", "amount": "", "reason": "Asked by the customer"}, follow=True
    )

    assert "Refund to the card" in form.content.decode()
    assert "refund of ₹100.00 processed" in done.content.decode()
    assert [body["amount"] for body in asked] == [10000]
    assert Refund.objects.get().created_by.email == "admin@example.com"
    assert Wallet.objects.get(user=user).balance == 0


@pytest.mark.django_db
def test_staff_without_the_ledger_permission_cannot_refund_payments(client, user, make_order):
    payment = paid_by(user, make_order)
    staff = user_create(email="support@example.com", password="pw-support-1", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_payment"))
    support = Client()
    support.force_login(staff)

    page = support.get("/admin/payments/payment/").content.decode()
    refused = support.post(
        "/admin/payments/payment/",
        {"action": "refund", "_selected_action": [str(payment.pk)], "apply": "1", "reason": "x"},
    )

    assert payment.razorpay_payment_id in page and 'value="refund"' not in page
    assert refused.status_code == 200 and not Refund.objects.exists()


@pytest.mark.django_db
def test_a_flagged_payment_marked_as_dealt_with_leaves_the_dashboard_and_stays_flagged(
    admin_client, client, user, make_order
):
    order = make_order(user, "20.00")
    payment_id = new_payment_id()
    post_webhook(
        client,
        webhook_event(
            "payment.captured", payment_entity(payment_id=payment_id, order_id=order.razorpay_order_id, amount_paise=1)
        ),
    )
    payment = Payment.objects.get(razorpay_payment_id=payment_id)
    assert list(payment_flagged()) == [payment]
    selected = {"action": "mark_reviewed", "_selected_action": [str(payment.pk)], "apply": "1"}

    done = admin_client.post("/admin/payments/payment/", {**selected, "reason": "Paid 1 paisa; told the customer"})
    again = admin_client.post("/admin/payments/payment/", {**selected, "reason": "twice"}, follow=True)

    assert done.status_code == 302
    payment.refresh_from_db()
    assert (payment.flagged, payment.review_note) == (True, "Paid 1 paisa; told the customer")
    assert payment.reviewed_at is not None and list(payment_flagged()) == []
    assert "already dealt with" in again.content.decode()
    assert [entry.get_change_message() for entry in LogEntry.objects.all()] == [
        "Dealt with: marked as dealt with; it stays flagged, so nothing credits or refunds it on its own. "
        "Reason: Paid 1 paisa; told the customer"
    ]
    assert Transaction.objects.filter(payment_id=payment_id).count() == 0  # still never credited


@pytest.mark.django_db
def test_a_refund_short_of_money_marked_as_dealt_with_leaves_the_dashboard(admin_client, user, make_order):
    payment = paid_by(user, make_order)
    short = Refund.objects.create(
        payment=payment, amount="80.00", from_wallet="30.00", flagged=True, status="processed", source="dashboard"
    )
    covered = Refund.objects.create(
        payment=payment, amount="5.00", from_wallet="5.00", status="processed", source="admin"
    )
    assert list(refund_needing_attention(unsettled_before=timezone.now())) == [short]

    page = admin_client.post(
        "/admin/payments/refund/",
        {
            "action": "mark_reviewed",
            "_selected_action": [str(short.pk), str(covered.pk)],
            "apply": "1",
            "reason": "Wrote off",
        },
        follow=True,
    ).content.decode()

    assert list(refund_needing_attention(unsettled_before=timezone.now())) == []
    assert "marked as dealt with" in page and "not flagged, or an admin has already dealt with it" in page
    assert Refund.objects.get(pk=covered.pk).reviewed_at is None


@pytest.mark.django_db
def test_staff_without_the_ledger_permission_cannot_mark_flags(user, make_order):
    staff = user_create(email="support@example.com", password="pw-support-1", is_staff=True)
    staff.groups.add(Group.objects.get(name="support"))
    support = Client()
    support.force_login(staff)
    paid_by(user, make_order)

    page = support.get("/admin/payments/payment/").content.decode()

    assert re.findall(r'<option value="(\w+)"', page) == []  # no action at all: none is support's
