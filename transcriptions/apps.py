from django.apps import AppConfig


class TranscriptionsConfig(AppConfig):
    name = "transcriptions"

    def ready(self) -> None:
        from accounts.signals import user_erasing, user_exporting
        from audio.signals import audio_expiring, audio_file_deleting
        from transcriptions import checks, personal_data, tasks  # noqa: F401  (tasks: queued by name, web included)
        from transcriptions.services import purge_expired_redacted_copies, refuse_deleting_audio_in_use

        audio_file_deleting.connect(refuse_deleting_audio_in_use, dispatch_uid="refuse_deleting_audio_in_use")
        audio_expiring.connect(purge_expired_redacted_copies, dispatch_uid="purge_expired_redacted_copies")
        user_erasing.connect(personal_data.erase, dispatch_uid="transcriptions_erase")
        user_exporting.connect(personal_data.export, dispatch_uid="transcriptions_export")
