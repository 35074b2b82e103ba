from django.apps import AppConfig


class WalletConfig(AppConfig):
    name = "wallet"

    def ready(self) -> None:
        from accounts.signals import user_created, user_exporting
        from wallet import personal_data
        from wallet.services import wallet_create

        # Every user has exactly one wallet, made in the transaction that made the user.
        user_created.connect(
            lambda sender, user, **kwargs: wallet_create(user=user), weak=False, dispatch_uid="wallet_for_new_user"
        )
        user_exporting.connect(personal_data.export, dispatch_uid="wallet_export")
