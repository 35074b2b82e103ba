"""Audio, uploads and the fake of OpenAI's API, shared with the audio and transcriptions tests."""

from tests.audio.conftest import files_under, media_root  # noqa: F401  (a helper and a fixture)
from tests.transcriptions.conftest import (  # noqa: F401  (fixtures)
    audio_dir,
    fake_openai,
    ninety_seconds_wav,
    phrase_wav,
    speech_wav,
)
