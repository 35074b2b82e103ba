from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"

    def ready(self) -> None:
        from accounts.signals import user_exporting
        from payments import personal_data

        user_exporting.connect(personal_data.export, dispatch_uid="payments_export")
