"""The models `/v1` offers, by the names OpenAI's clients use.

`whisper-1` is always there, because tools hard-code it: here it means this deployment's default
engine and model, whatever they are. The engine's own models follow under their own names: the
installed Whisper model offline (`whisper-base`), OpenAI's speech-to-text models on the OpenAI
engine. What each can do comes from the transcriptions app, which runs them.
"""

import calendar
from dataclasses import dataclass

from openai_api.errors import ModelNotFound
from transcriptions.services import transcription_models

WHISPER_1 = "whisper-1"
# Each model object's `created`: when this API began to serve them (2026-12-01). The upstream
# models' own dates are OpenAI's to tell.
CREATED = calendar.timegm((2026, 12, 1, 0, 0, 0))


@dataclass(frozen=True)
class OpenAIModel:
    id: str  # as clients name it
    model: str  # as the transcriptions app is told it: "" for the default
    owned_by: str  # the engine that runs it: "openai" or "local"
    gives_segments: bool
    labels_speakers: bool


def openai_models() -> list[OpenAIModel]:
    models = transcription_models()
    default = models[0]
    offered = [OpenAIModel(WHISPER_1, "", default.engine, default.gives_segments, default.labels_speakers)]
    offered += [
        OpenAIModel(model.name, model.name, model.engine, model.gives_segments, model.labels_speakers)
        for model in models
        if model.name != WHISPER_1
    ]
    return offered


def openai_model(model_id: str) -> OpenAIModel:
    """The model a client names; `ModelNotFound` for any other."""
    for model in openai_models():
        if model.id == model_id:
            return model
    raise ModelNotFound(f"The model `{model_id}` does not exist here; GET /v1/models lists the ones this server has.")
