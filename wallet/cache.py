"""The cached copy of each wallet's details, and how every change to a wallet invalidates it.

A copy is kept with the wallet's version at the time it was read, and is good only while that
is still the version: every committed change to the wallet bumps the version, so a copy read
before a change can never be served after it, even if it was stored after the change (the race a
plain delete-on-change has). The bump runs after the commit, never under the wallet's row lock,
and a change that rolls back leaves the cache as it was.

The cache never decides anything about money: spending is checked under the wallet's row lock in
the database. With the cache down, reads go to the database (django-redis ignores the errors);
a copy outlives a failed bump by at most `WALLET_DETAILS_CACHE_SECONDS`, and nothing is cached
when that is 0 (the default without Redis, whose per-process caches a bump cannot reach).
"""

from __future__ import annotations

from datetime import date
from functools import partial
from typing import Any
from uuid import UUID

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

UserId = UUID | str


# Part of the details' key: bumped when `WalletDetails` changes shape, so copies cached by the
# previous release are never read as the new one.
DETAILS_FORMAT = 2


def _keys(user_id: UserId) -> tuple[str, str]:
    return f"wallet-version:{user_id}", f"wallet-details:v{DETAILS_FORMAT}:{user_id}"


def details_get(*, user_id: UserId) -> tuple[int, Any]:
    """`(current version, cached details or None)`, in one round trip."""
    if not settings.WALLET_DETAILS_CACHE_SECONDS:
        return 0, None
    version_key, details_key = _keys(user_id)
    found = cache.get_many([version_key, details_key])
    version = found.get(version_key, 0)
    stored = found.get(details_key)
    if stored is not None and stored[0] == version:
        return version, stored[1]
    return version, None


def details_set(*, user_id: UserId, version: int, details: Any) -> None:
    if settings.WALLET_DETAILS_CACHE_SECONDS:
        cache.set(_keys(user_id)[1], (version, details), settings.WALLET_DETAILS_CACHE_SECONDS)


def wallet_changed(*, user_id: UserId) -> None:
    """Call inside the transaction that changes the wallet: its cached copy goes once that commits."""
    transaction.on_commit(partial(_bump, user_id))


def _bump(user_id: UserId) -> None:
    version_key = _keys(user_id)[0]
    try:
        cache.incr(version_key)
    except ValueError:  # no version yet (or it was evicted): start one
        if not cache.add(version_key, 1, timeout=None):
            cache.incr(version_key)


# --- Settled days of the ledger ----------------------------------------------------------------

# Ledger lines are never changed or deleted, and each is dated when it is written: once a day has
# ended (and every transaction that began in it has committed), its totals are final.
LEDGER_DAY_FORMAT = 1
LEDGER_DAY_SECONDS = 40 * 24 * 3600  # longer than the dashboard looks back


def _day_key(day: date) -> str:
    return f"ledger-day:v{LEDGER_DAY_FORMAT}:{day.isoformat()}"


def ledger_days_get(*, days: list[date]) -> dict[date, Any]:
    """The totals cached for each of `days` that has them."""
    found = cache.get_many([_day_key(day) for day in days])
    return {day: found[_day_key(day)] for day in days if _day_key(day) in found}


def ledger_days_set(*, totals: dict[date, Any]) -> None:
    cache.set_many({_day_key(day): value for day, value in totals.items()}, LEDGER_DAY_SECONDS)
