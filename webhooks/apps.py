from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"

    def ready(self) -> None:
        from webhooks import tasks  # noqa: F401  (queued and scheduled by name, from the web process too)
