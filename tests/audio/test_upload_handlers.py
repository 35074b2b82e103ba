import os

import pytest
from django.test import RequestFactory

from audio.exceptions import FileTooLarge
from audio.upload_handlers import AudioUploadHandler

CHUNK = AudioUploadHandler.chunk_size


def start_file(handler: AudioUploadHandler, name: str = "recording.mp3") -> None:
    handler.new_file("file", name, "audio/mpeg", None)


def test_reading_stops_at_the_first_chunk_past_the_limit_and_the_temporary_file_goes(settings):
    settings.MAX_UPLOAD_MB = 1
    handler = AudioUploadHandler(RequestFactory().post("/"))
    start_file(handler)
    temporary_path = handler.file.temporary_file_path()
    chunks_accepted = 0

    with pytest.raises(FileTooLarge):
        for start in range(0, 10 * 1024 * 1024, CHUNK):
            handler.receive_data_chunk(b"\0" * CHUNK, start)
            chunks_accepted += 1

    assert chunks_accepted * CHUNK == 1024 * 1024
    assert not os.path.exists(temporary_path)


def test_the_limit_counts_every_file_in_the_request(settings):
    settings.MAX_UPLOAD_MB = 1
    handler = AudioUploadHandler(RequestFactory().post("/"))
    start_file(handler, "first.mp3")
    handler.receive_data_chunk(b"\0" * (700 * 1024), 0)
    first = handler.file_complete(700 * 1024)
    start_file(handler, "second.mp3")

    with pytest.raises(FileTooLarge):
        handler.receive_data_chunk(b"\0" * (400 * 1024), 0)
    first.close()


def test_a_file_within_the_limit_is_on_disk_under_a_neutral_temporary_name():
    handler = AudioUploadHandler(RequestFactory().post("/"))
    start_file(handler, "a." + "x" * 300)  # an extension longer than a file name may be
    handler.receive_data_chunk(b"ID3 and more", 0)

    uploaded = handler.file_complete(12)

    assert uploaded.size == 12
    assert uploaded.read() == b"ID3 and more"
    assert uploaded.temporary_file_path().endswith(".upload")
    assert uploaded.name.endswith("x" * 10)
    uploaded.close()
    assert not os.path.exists(uploaded.temporary_file_path())
