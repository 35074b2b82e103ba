from django.apps import AppConfig


class TranscriptionsConfig(AppConfig):
    name = "transcriptions"

    def ready(self) -> None:
        # Registers the tasks in every process, web included: services queue them by name.
        from transcriptions import checks, tasks  # noqa: F401
