from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import QuerySet

from wallet.cache import details_get, details_set
from wallet.models import Transaction, Wallet

if TYPE_CHECKING:
    from accounts.models import User


def wallet_get(*, user: User) -> Wallet:
    return Wallet.objects.get(user=user)


@dataclass(frozen=True)
class WalletDetails:
    balance: Decimal
    held: Decimal
    available: Decimal
    currency: str
    demo_minutes_remaining: Decimal
    demo_minutes_held: Decimal
    demo_minutes_available: Decimal
    rate_per_minute: Decimal
    total_credited: Decimal
    total_spent: Decimal
    total_refunded: Decimal
    total_minutes_transcribed: Decimal


def wallet_details(*, user: User) -> WalletDetails:
    """What the user's wallet holds and has done, with the price of a minute. Served from the
    cache while no change to the wallet has been made since it was read (`wallet.cache`)."""
    version, cached = details_get(user_id=user.pk)
    if isinstance(cached, WalletDetails):
        return cached
    details = _details_of(wallet_get(user=user))
    details_set(user_id=user.pk, version=version, details=details)
    return details


def _details_of(wallet: Wallet) -> WalletDetails:
    return WalletDetails(
        balance=wallet.balance,
        held=wallet.held,
        available=wallet.available,
        currency=settings.CURRENCY,
        demo_minutes_remaining=wallet.demo_minutes_remaining,
        demo_minutes_held=wallet.demo_minutes_held,
        demo_minutes_available=wallet.demo_minutes_available,
        rate_per_minute=settings.RATE_PER_MINUTE,
        total_credited=wallet.total_credited,
        total_spent=wallet.total_spent,
        total_refunded=wallet.total_refunded,
        total_minutes_transcribed=wallet.total_minutes_transcribed,
    )


def transaction_list(*, user: User) -> QuerySet[Transaction]:
    """The user's own ledger, newest first."""
    return Transaction.objects.filter(wallet__user=user).order_by("-created_at", "-id")
