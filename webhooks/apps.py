from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"

    def ready(self) -> None:
        from accounts.signals import user_erasing, user_exporting
        from webhooks import personal_data, tasks  # noqa: F401  (tasks: queued and scheduled by name, web included)

        user_erasing.connect(personal_data.erase, dispatch_uid="webhooks_erase")
        user_exporting.connect(personal_data.export, dispatch_uid="webhooks_export")
