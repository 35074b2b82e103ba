from wallet.models import Wallet


def wallet_get(*, user) -> Wallet:
    return Wallet.objects.get(user=user)
