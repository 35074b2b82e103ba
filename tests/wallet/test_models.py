from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from wallet.models import Transaction, Wallet
from wallet.services import wallet_credit


@pytest.mark.django_db
@pytest.mark.parametrize(
    "field, value",
    [
        ("balance", Decimal("-0.01")),
        ("held", Decimal("-0.01")),
        ("demo_minutes_remaining", Decimal("-0.01")),
        ("demo_minutes_held", Decimal("-0.01")),
        ("total_credited", Decimal("-0.01")),
        ("total_spent", Decimal("-0.01")),
        ("total_minutes_transcribed", Decimal("-0.01")),
    ],
)
def test_database_rejects_negative_wallet_figures(user, field, value):
    with pytest.raises(IntegrityError), transaction.atomic():
        Wallet.objects.filter(pk=user.wallet.pk).update(**{field: value})

    assert getattr(Wallet.objects.get(pk=user.wallet.pk), field) >= 0


@pytest.mark.django_db
def test_database_rejects_held_above_balance(user):
    wallet_credit(user=user, amount=Decimal("5.00"), payment_id="pay_1")

    with pytest.raises(IntegrityError), transaction.atomic():
        Wallet.objects.filter(pk=user.wallet.pk).update(held=Decimal("5.01"))


@pytest.mark.django_db
def test_database_rejects_a_line_that_does_not_add_up(user):
    with pytest.raises(IntegrityError), transaction.atomic():
        Transaction.objects.create(
            wallet=user.wallet,
            type=Transaction.Type.ADJUSTMENT,
            reference="bad",
            amount=Decimal("1.00"),
            balance_before=Decimal("0.00"),
            balance_after=Decimal("2.00"),
        )


@pytest.mark.django_db
def test_transactions_cannot_be_updated_or_deleted(user):
    line, _ = wallet_credit(user=user, amount=Decimal("5.00"), payment_id="pay_1")

    line.amount = Decimal("500.00")
    with pytest.raises(TypeError):
        line.save()
    with pytest.raises(TypeError):
        line.delete()
    with pytest.raises(TypeError):
        Transaction.objects.filter(pk=line.pk).update(amount=Decimal("500.00"))
    with pytest.raises(TypeError):
        Transaction.objects.filter(pk=line.pk).delete()

    assert Transaction.objects.get(pk=line.pk).amount == Decimal("5.00")


@pytest.mark.django_db
def test_every_user_gets_one_wallet_with_demo_minutes_through_the_ledger(user):
    wallet = Wallet.objects.get(user=user)
    grant = Transaction.objects.get(wallet=wallet)

    assert wallet.balance == Decimal("0.00")
    assert wallet.demo_minutes_remaining == Decimal("10.00")
    assert grant.demo_minutes == Decimal("10.00")
    assert grant.demo_minutes_after == wallet.demo_minutes_remaining
