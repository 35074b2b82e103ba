import pytest
from django.test import Client

from accounts.services import user_create
from payments.models import WebhookEvent
from tests.payments.fakes import new_payment_id, payment_entity, post_webhook, webhook_event


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
