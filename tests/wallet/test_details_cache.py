from decimal import Decimal

import pytest
from django.db import transaction
from django.test import override_settings

from tests.test_observability import REDIS_DOWN
from wallet.cache import details_get, details_set
from wallet.selectors import _details_of, wallet_details, wallet_get
from wallet.services import wallet_credit

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("details_cached")]
URL = "/api/wallet/details/"


@pytest.fixture
def details_cached(settings):
    settings.WALLET_DETAILS_CACHE_SECONDS = 60  # as with Redis


def test_without_a_shared_cache_a_change_made_by_another_process_shows_at_once(api_client, user, settings):
    settings.WALLET_DETAILS_CACHE_SECONDS = 0  # the default without REDIS_URL
    assert api_client.get(URL).json()["balance"] == "0.00"

    # Another process credits the wallet: its bump after the commit reaches that process's own cache,
    # never this one's (here the on-commit bump never runs).
    wallet_credit(user=user, amount=Decimal("25.00"), payment_id="pay_elsewhere_1")

    assert api_client.get(URL).json()["balance"] == "25.00"


def test_repeated_reads_are_served_from_the_cache(api_client, django_assert_num_queries):
    first = api_client.get(URL)

    with django_assert_num_queries(0):
        second = api_client.get(URL)

    assert second.json() == first.json()


def test_a_change_shows_at_once(api_client, user, django_capture_on_commit_callbacks):
    assert api_client.get(URL).json()["balance"] == "0.00"

    with django_capture_on_commit_callbacks(execute=True):
        wallet_credit(user=user, amount=Decimal("25.00"), payment_id="pay_cache_1")

    assert api_client.get(URL).json()["balance"] == "25.00"


def test_a_copy_read_before_a_change_is_never_served_after_it(user, django_capture_on_commit_callbacks):
    # A request reads the wallet, a payment lands, then the first request stores what it read.
    version, _ = details_get(user_id=user.pk)
    read_before = _details_of(wallet_get(user=user))
    with django_capture_on_commit_callbacks(execute=True):
        wallet_credit(user=user, amount=Decimal("25.00"), payment_id="pay_cache_2")
    details_set(user_id=user.pk, version=version, details=read_before)

    assert wallet_details(user=user).balance == Decimal("25.00")


def test_a_change_that_rolls_back_leaves_the_cache_untouched(api_client, user, django_capture_on_commit_callbacks):
    cached = api_client.get(URL).json()
    version, _ = details_get(user_id=user.pk)

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        wallet_credit(user=user, amount=Decimal("25.00"), payment_id="pay_cache_rolled_back")
        assert details_get(user_id=user.pk)[0] == version  # nothing touched under the wallet's lock
        raise RuntimeError("rolled back")

    assert callbacks == []
    assert details_get(user_id=user.pk)[0] == version
    assert api_client.get(URL).json() == cached


def test_with_the_cache_down_details_come_from_the_database(user):
    with override_settings(CACHES=REDIS_DOWN):
        wallet_credit(user=user, amount=Decimal("5.00"), payment_id="pay_cache_3")
        details = wallet_details(user=user)

    assert details.balance == Decimal("5.00")
