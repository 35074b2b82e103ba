from django.apps import AppConfig


class AudioConfig(AppConfig):
    name = "audio"

    def ready(self) -> None:
        from django.http import multipartparser

        from audio import tasks  # noqa: F401  (the schedule runs it by name, in the web process too)

        # Django refuses a multipart part whose headers pass 1 kB, so a 10 kB filename would fail
        # the whole upload. The contract keeps such a file under its UUID name with the original name
        # shortened; 16 kB of headers a part still bounds the parser's work (the body is capped by
        # MAX_UPLOAD_MB while it streams).
        # Django has no setting for it (and the stubs do not declare it).
        multipartparser.MAX_TOTAL_HEADER_SIZE = max(multipartparser.MAX_TOTAL_HEADER_SIZE, 16 * 1024)  # type: ignore[attr-defined]
