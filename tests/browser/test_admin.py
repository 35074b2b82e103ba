"""An admin's day in a real browser: sign in, every list and every record's page, the wallet credit
action through its confirmation form (checked through the API and the ledger), and a support
user who never sees a money action."""

from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import user_issue_tokens
from tests.browser.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, sign_in
from wallet.models import Transaction, Wallet

pytestmark = pytest.mark.django_db(transaction=True)  # the browser's server reads what the test committed


def test_every_list_and_record_page_opens_with_nothing_failing(page, superuser, customer):
    sign_in(page, ADMIN_EMAIL, ADMIN_PASSWORD)
    heading = page.text_content("#site-name")
    visited = []

    for model, model_admin in admin.site._registry.items():
        meta = model._meta
        changelist = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        answer = page.goto(changelist)
        assert answer.status == 200, changelist
        visited.append(changelist)
        first = model_admin.get_queryset(None).first() if hasattr(model_admin, "get_queryset") else None
        if first is not None:
            change = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[first.pk])
            assert page.goto(change).status == 200, change
            visited.append(change)

    assert "Transcription service" in heading
    assert len(visited) > 30
    assert page.problems.seen == []


def test_crediting_a_wallet_through_its_form_reaches_the_api_and_the_ledger(page, superuser, customer):
    sign_in(page, ADMIN_EMAIL, ADMIN_PASSWORD)
    wallet = Wallet.objects.get(user=customer)
    before = wallet.balance

    page.goto("/admin/wallet/wallet/")
    page.check(f"input[name=_selected_action][value='{wallet.pk}']")
    page.select_option("select[name=action]", "credit_or_adjust")
    page.click("button[name=index]")
    page.fill("#id_amount", "25.50")
    page.fill("#id_reason", "Goodwill credit after an outage")
    page.click("input[name=apply]")

    assert f"balance ₹{before + Decimal('25.50')}" in page.text_content(".messagelist .success")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {user_issue_tokens(user=customer)['access']}")
    assert client.get("/api/wallet/details/").json()["balance"] == str(before + Decimal("25.50"))
    line = Transaction.objects.filter(wallet=wallet).latest("created_at")
    assert (line.amount, line.description, line.created_by.email) == (
        Decimal("25.50"),
        "Goodwill credit after an outage",
        ADMIN_EMAIL,
    )
    assert page.problems.seen == []


def test_support_staff_see_the_lists_but_no_money_action(page, customer):
    support = User.objects.create_user("support@example.com", "pw-support-browser-1", is_staff=True)
    support.groups.add(Group.objects.get(name="support"))
    sign_in(page, "support@example.com", "pw-support-browser-1")

    page.goto("/admin/wallet/wallet/")
    wallet_actions = page.eval_on_selector_all("select[name=action] option", "options => options.map(o => o.value)")
    page.goto("/admin/transcriptions/transcription/")
    job_actions = page.eval_on_selector_all("select[name=action] option", "options => options.map(o => o.value)")

    assert "credit_or_adjust" not in wallet_actions
    assert set(job_actions) - {""} == {"retry", "requeue", "stop"}
    assert page.problems.seen == []
