from django.apps import AppConfig


class AudioConfig(AppConfig):
    name = "audio"

    def ready(self) -> None:
        from django.http import multipartparser

        from accounts.signals import user_exporting
        from audio import personal_data  # tasks: the schedule runs them by name, in the web process too

        user_exporting.connect(personal_data.export, dispatch_uid="audio_export")

        # Django refuses a multipart part whose headers pass 1 kB, so a 10 kB filename would fail
        # the whole upload. The contract keeps such a file under its UUID name with the original name
        # shortened; 16 kB of headers a part still bounds the parser's work (the body is capped by
        # MAX_UPLOAD_MB while it streams).
        # Django has no setting for it (and the stubs do not declare it).
        multipartparser.MAX_TOTAL_HEADER_SIZE = max(multipartparser.MAX_TOTAL_HEADER_SIZE, 16 * 1024)  # type: ignore[attr-defined]
