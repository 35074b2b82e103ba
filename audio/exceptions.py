from rest_framework import status

from config.exceptions import DomainError


class EmptyFile(DomainError):
    code = "empty_file"
    default_detail = "The file is empty."


class FileTooLarge(DomainError):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    code = "file_too_large"
    default_detail = "The file is larger than the upload limit."


class UnsupportedFormat(DomainError):
    code = "unsupported_format"
    default_detail = "This is not an audio file in a supported format (FLAC, MP3, MP4/M4A, Ogg, WAV, WebM)."


class InvalidAudio(DomainError):
    code = "invalid_audio"
    default_detail = "The audio could not be read: it is truncated, corrupt or has no sound."


class AudioTooLong(DomainError):
    code = "audio_too_long"
    default_detail = "The recording is longer than the limit."


class AudioInUse(DomainError):
    status_code = status.HTTP_409_CONFLICT
    code = "audio_in_use"
    default_detail = "A transcription of this audio file is in progress; delete it once that has finished."


class StoredFileUnavailable(DomainError):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    code = "storage_unavailable"
    default_detail = "The stored audio could not be read right now; please try again later."


class DirectUploadUnavailable(DomainError):
    code = "direct_upload_unavailable"
    default_detail = "Direct uploads need audio kept in object storage; send the file to POST /api/audio/ instead."


class DirectUploadMissing(DomainError):
    status_code = status.HTTP_409_CONFLICT
    code = "upload_missing"
    default_detail = "Nothing has been sent to this upload's URL yet; PUT the file there first."


class DirectUploadNotFound(DomainError):
    status_code = status.HTTP_404_NOT_FOUND
    code = "not_found"
    default_detail = "Upload not found."
