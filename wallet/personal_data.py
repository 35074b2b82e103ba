"""The wallet's part of a user's data (`accounts.signals.user_exporting`). Nothing of it is erased
with the account: the ledger must keep adding up."""

from typing import Any

from accounts.models import User
from wallet.selectors import transaction_list, wallet_details
from wallet.serializers import TransactionOutputSerializer, WalletDetailsOutputSerializer


def export(sender: type[User], *, user: User, **kwargs: Any) -> tuple[str, object]:
    details = WalletDetailsOutputSerializer(wallet_details(user=user)).data
    lines = TransactionOutputSerializer(transaction_list(user=user), many=True).data
    return "wallet", {**details, "transactions": lines}
