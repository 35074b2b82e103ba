from django.apps import AppConfig


class WalletConfig(AppConfig):
    name = "wallet"

    def ready(self) -> None:
        from accounts.signals import user_created
        from wallet.services import wallet_create

        # Every user has exactly one wallet, made in the transaction that made the user.
        user_created.connect(
            lambda sender, user, **kwargs: wallet_create(user=user), weak=False, dispatch_uid="wallet_for_new_user"
        )
