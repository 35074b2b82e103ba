from django.apps import AppConfig


class OperationsConfig(AppConfig):
    """The operators' view across the apps: the dashboard linked from the admin's index. It reads
    through the other apps' selectors and owns no data."""

    name = "operations"
