from django.apps import AppConfig


class TranscriptionsConfig(AppConfig):
    name = "transcriptions"

    def ready(self) -> None:
        from audio.signals import audio_file_deleting
        from transcriptions import checks, tasks  # noqa: F401  (tasks: services queue them by name, web included)
        from transcriptions.services import refuse_deleting_audio_in_use

        audio_file_deleting.connect(refuse_deleting_audio_in_use, dispatch_uid="refuse_deleting_audio_in_use")
