"""Speech-to-text engines. Only `transcriptions.services` uses them."""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from transcriptions.engines.base import (
    Engine,
    EngineError,
    EngineRejected,
    EngineResult,
    EngineUnavailable,
    LanguageUncertain,
    Segment,
    Word,
)
from transcriptions.engines.local import LocalEngine
from transcriptions.engines.openai import NAMED_MODELS, OpenAIEngine

__all__ = [
    "Engine",
    "EngineError",
    "EngineRejected",
    "EngineResult",
    "EngineUnavailable",
    "LanguageUncertain",
    "Segment",
    "Word",
    "engine_models",
    "get_engine",
]


def get_engine(*, name: str | None = None, model: str | None = None) -> Engine:
    """The engine called `name` (default `TRANSCRIPTION_ENGINE`), with `model` where it has a choice."""
    name = name or settings.TRANSCRIPTION_ENGINE
    if name == "openai":
        return OpenAIEngine.from_settings(model=model)
    if name == "local":
        return LocalEngine.from_settings(model=model)
    raise ImproperlyConfigured(f"Unknown TRANSCRIPTION_ENGINE {name!r}: use 'openai' or 'local'.")


def engine_models() -> list[Engine]:
    """The configured engine with each model a request may name on it, the default first: on
    `openai` OpenAI's speech-to-text models, offline the installed Whisper model it runs."""
    default = get_engine()
    if default.name != "openai":
        return [default]
    others = [model for model in NAMED_MODELS if model != default.model]
    return [default, *(get_engine(name="openai", model=model) for model in others)]
