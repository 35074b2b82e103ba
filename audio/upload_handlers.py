from django.conf import settings
from django.core.files.uploadedfile import TemporaryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler

from audio.exceptions import FileTooLarge


def max_upload_bytes() -> int:
    return settings.MAX_UPLOAD_MB * 1024 * 1024


def file_too_large() -> FileTooLarge:
    return FileTooLarge(f"The file is larger than the {settings.MAX_UPLOAD_MB} MB upload limit.")


class AudioUploadHandler(FileUploadHandler):
    """Streams uploaded files to temporary files on disk, chunk by chunk, and stops reading the
    request as soon as they add up to more than `MAX_UPLOAD_MB`, removing what it wrote."""

    def __init__(self, request=None) -> None:
        super().__init__(request)
        self.max_bytes = max_upload_bytes()
        self.received = 0

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        # A neutral temporary name: Django's own handler would put the client's extension, however
        # long, into it, and the content is judged by its bytes anyway.
        self.file = TemporaryUploadedFile("upload", self.content_type, 0, self.charset, self.content_type_extra)
        self.file.name = self.file_name

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self.received += len(raw_data)
        if self.received > self.max_bytes:
            self.upload_interrupted()
            raise file_too_large()
        self.file.write(raw_data)

    def file_complete(self, file_size: int) -> TemporaryUploadedFile:
        self.file.seek(0)
        self.file.size = file_size
        return self.file

    def upload_interrupted(self) -> None:
        if hasattr(self, "file"):
            self.file.close()  # a NamedTemporaryFile removes itself when closed
