"""Speech-to-text engines. Only `transcriptions.services` uses them."""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from transcriptions.engines.base import (
    Engine,
    EngineError,
    EngineRejected,
    EngineResult,
    EngineUnavailable,
    Segment,
    Word,
)
from transcriptions.engines.local import LocalEngine
from transcriptions.engines.openai import OpenAIEngine

__all__ = [
    "Engine",
    "EngineError",
    "EngineRejected",
    "EngineResult",
    "EngineUnavailable",
    "Segment",
    "Word",
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
