"""Audio and the fake of OpenAI's API, shared with the transcriptions tests."""

from pathlib import Path

import pytest

from tests.transcriptions.conftest import (  # noqa: F401  (fixtures)
    audio_dir,
    fake_openai,
    ninety_seconds_wav,
    phrase_wav,
    speech_wav,
)


@pytest.fixture
def media_root(settings, tmp_path) -> Path:
    """A fresh MEDIA_ROOT and upload temp directory, so a test can see what is left behind."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "upload-tmp")
    (tmp_path / "upload-tmp").mkdir()
    return tmp_path / "media"


def files_under(directory: Path | str) -> list[Path]:
    return [path for path in Path(directory).rglob("*") if path.is_file()]
