"""The admin as a whole: named for the product, one section per name, and a superuser made as
Django documents it (`createsuperuser --noinput` with DJANGO_SUPERUSER_* from the environment)."""

import html
import re
from decimal import Decimal
from uuid import uuid4

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from accounts.models import User
from tests.factories import PaymentFactory, TranscriptionFactory
from wallet.services import wallet_credit

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client() -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("admin@example.com", "pw-admin-1"))
    return client


def test_the_index_names_the_product_and_each_section_once(admin_client):
    page = admin_client.get("/admin/").content.decode()

    sections = re.findall(r'<caption>\s*<a [^>]*class="section"[^>]*>([^<]+)</a>', page)
    assert len(sections) == len(set(sections)), sections
    assert {"Users", "Wallet", "Audio", "Transcriptions", "Payments", "Webhooks"} <= set(sections)
    assert "<title>Operations | Transcription admin</title>" in page
    assert 'href="/api/docs/"' in page  # "View site"


def test_createsuperuser_takes_its_email_and_password_from_the_environment(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "Boss@Example.com")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "pw-boss-123")

    call_command("createsuperuser", "--noinput", verbosity=0)

    boss = User.objects.get(email="boss@example.com")
    assert boss.is_superuser and boss.is_staff and boss.check_password("pw-boss-123")
    assert boss.wallet.demo_minutes_remaining >= 0  # made like every user, with its wallet


def staff_in(group: str) -> Client:
    user = User.objects.create_user(f"{group}@example.com", "pw-staff-1", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    client = Client()
    client.force_login(user)
    return client


def actions_on(client: Client, url: str) -> set[str]:
    page = client.get(url)
    assert page.status_code == 200
    return set(re.findall(r'<option value="(\w+)"', page.content.decode())) - {""}


@pytest.fixture
def one_of_each():
    """Something on each page: an action only shows above a list that has rows."""
    TranscriptionFactory(status="failed")
    PaymentFactory()


def test_support_sees_everything_and_handles_jobs_but_moves_no_money(one_of_each):
    support = staff_in("support")

    for url in (
        "/admin/wallet/wallet/",
        "/admin/wallet/transaction/",
        "/admin/payments/payment/",
        "/admin/audio/audiofile/",
        "/admin/webhooks/endpoint/",
        "/admin/payments/refund/",
    ):
        assert support.get(url).status_code == 200, url
    assert actions_on(support, "/admin/transcriptions/transcription/") == {"retry", "requeue", "stop"}
    assert "credit_or_adjust" not in actions_on(support, "/admin/wallet/wallet/")
    assert "refund" not in actions_on(support, "/admin/payments/payment/")


def test_finance_credits_and_refunds(one_of_each):
    finance = staff_in("finance")

    assert "credit_or_adjust" in actions_on(finance, "/admin/wallet/wallet/")
    assert "refund" in actions_on(finance, "/admin/payments/payment/")
    assert "refund_transcriptions" in actions_on(finance, "/admin/transcriptions/transcription/")
    assert "retry" not in actions_on(finance, "/admin/transcriptions/transcription/")


def test_money_is_shown_with_its_currency(admin_client):
    payment = PaymentFactory(order__amount=Decimal("1250.00"), amount_paise=125000)
    wallet_credit(user=payment.order.user, amount=Decimal("1250.00"), payment_id=payment.razorpay_payment_id)

    wallets = admin_client.get("/admin/wallet/wallet/").content.decode()
    payments = admin_client.get("/admin/payments/payment/").content.decode()
    ledger = admin_client.get("/admin/wallet/transaction/").content.decode()

    assert "₹1,250.00" in wallets and "₹1,250.00" in payments and "₹1,250.00" in ledger


def test_every_filter_choice_and_a_search_answer_on_every_list(admin_client, customer):
    TranscriptionFactory(user=customer, status="failed", error_code="audio_unreadable")
    opened = 0
    for model, model_admin in admin.site._registry.items():
        changelist = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        page = admin_client.get(changelist)
        assert page.status_code == 200, changelist
        sidebar = page.content.decode().partition('id="changelist-filter"')[2]
        # Each choice of each filter: the list it leads to opens (and is not an error page).
        for query in set(re.findall(r'<a href="(\?[^"]*)"', sidebar)):
            answer = admin_client.get(changelist + html.unescape(query))
            assert answer.status_code == 200 and b"errornote" not in answer.content, (changelist, query)
            opened += 1
        if model_admin.search_fields:
            for term in ("example", str(uuid4()), "no such thing"):
                assert admin_client.get(changelist, {"q": term}).status_code == 200, (changelist, term)

    assert opened > 50


def test_every_model_in_the_admin_is_named_in_english_plural():
    # Django adds an "s": "Deliverys" is what a model left to it shows on the admin's index.
    plurals = {model.__name__: str(model._meta.verbose_name_plural) for model in admin.site._registry}

    assert {name: plural for name, plural in plurals.items() if re.search(r"[^aeiou]ys$|[sxz]s$", plural)} == {}
    assert plurals["Delivery"] == "deliveries"
