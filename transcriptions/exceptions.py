from rest_framework import status

from config.exceptions import DomainError


class AudioFileNotFound(DomainError):
    status_code = status.HTTP_404_NOT_FOUND
    code = "not_found"
    default_detail = "Audio file not found."


class TranscriptionNotFound(DomainError):
    status_code = status.HTTP_404_NOT_FOUND
    code = "not_found"
    default_detail = "Transcription not found."


class UnsupportedLanguage(DomainError):
    code = "unsupported_language"
    default_detail = "The speech-to-text engine in use does not support this language."


class UnsupportedModel(DomainError):
    code = "unsupported_model"
    default_detail = "The speech-to-text engine in use has no such model."


class UnsupportedOption(DomainError):
    code = "unsupported_option"
    default_detail = "The speech-to-text engine in use cannot do what this request asks."


class TranscriptionInProgress(DomainError):
    status_code = status.HTTP_409_CONFLICT
    code = "transcription_in_progress"
    default_detail = "This audio file is already being transcribed."


class AlreadyTranscribed(DomainError):
    status_code = status.HTTP_409_CONFLICT
    code = "already_transcribed"
    default_detail = (
        "This audio file already has a transcription with these options (`transcription_id`); "
        'send "force": true to pay for another.'
    )


class IdempotencyKeyInUse(DomainError):
    status_code = status.HTTP_409_CONFLICT
    code = "idempotency_key_in_use"
    default_detail = "A request with this Idempotency-Key is still being processed; try again shortly."


class IdempotencyKeyReused(DomainError):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    code = "idempotency_key_reused"
    default_detail = "This Idempotency-Key was already used for a different audio file."


class TranscriptionNotCompleted(DomainError):
    status_code = status.HTTP_409_CONFLICT
    code = "transcription_not_completed"
    default_detail = "This transcription is not completed yet."


class NoSegments(DomainError):
    code = "no_segments"
    default_detail = "This transcript has no timestamps (the model gave none), so it cannot be a subtitle file."


class NoRedactedAudio(DomainError):
    status_code = status.HTTP_404_NOT_FOUND
    code = "no_redacted_audio"
    default_detail = 'This transcription has no redacted copy of its audio: ask with "redact_pii_audio": true.'


class TranscriptionActive(DomainError):
    status_code = status.HTTP_409_CONFLICT
    code = "transcription_active"
    default_detail = "This transcription is still running; delete it once it has completed or failed."


class TranscriptionNotActive(DomainError):
    status_code = status.HTTP_409_CONFLICT
    code = "transcription_not_active"
    default_detail = "Only a pending or processing transcription can be queued again or stopped."


class TranscriptionNotRetryable(DomainError):
    status_code = status.HTTP_409_CONFLICT
    code = "transcription_not_retryable"
    default_detail = "Only a failed transcription whose audio file still exists can be retried."


# How a job that failed while its request waited is answered. The record keeps the same code.


class TranscriptionEngineUnavailable(DomainError):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    code = "transcription_engine_unavailable"
    default_detail = "The speech-to-text service is unavailable. Nothing was charged; please try again later."


class TranscriptionQueueUnavailable(DomainError):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    code = "transcription_queue_unavailable"
    default_detail = "Transcriptions cannot be queued right now. Nothing was charged; please try again later."


class TranscriptionStorageUnavailable(DomainError):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    code = "transcription_storage_unavailable"
    default_detail = "The audio could not be read from storage. Nothing was charged; please try again later."


class TranscriptionRejected(DomainError):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    code = "transcription_rejected"
    default_detail = "This audio could not be transcribed. Nothing was charged."


class LanguageUncertain(DomainError):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    code = "language_uncertain"
    default_detail = (
        "The language was detected with less confidence than `language_confidence_threshold` asks. "
        "Nothing was charged; give the `language`, or a lower threshold."
    )


class TranscriptionFailed(DomainError):
    status_code = status.HTTP_500_INTERNAL_SERVER_ERROR
    code = "transcription_failed"
    default_detail = "The transcription failed unexpectedly. Nothing was charged."


# Failures of queued jobs, recorded on the job (its `error` and `error_code`); never raised in a request.


class TranscriptionTimedOut(DomainError):
    code = "transcription_timed_out"
    default_detail = "The transcription took longer than allowed for audio of this length. Nothing was charged."


class TranscriptionNotStarted(DomainError):
    code = "transcription_not_started"
    default_detail = "No worker took up the transcription in time. Nothing was charged; please try again."


class TranscriptionStopped(DomainError):
    code = "transcription_stopped"
    default_detail = "The transcription was stopped by an operator. Nothing was charged; please try again."


class TranscriptionInterrupted(DomainError):
    code = "transcription_interrupted"
    default_detail = "The transcription stopped before it finished. Nothing was charged; please try again."


FAILURES: dict[str, type[DomainError]] = {
    error.code: error
    for error in (
        TranscriptionEngineUnavailable,
        TranscriptionQueueUnavailable,
        TranscriptionStorageUnavailable,
        TranscriptionRejected,
        LanguageUncertain,
        TranscriptionFailed,
    )
}


def failure_error(*, code: str, detail: str) -> DomainError:
    """The API error for a failed job, from the code and message its record keeps."""
    return FAILURES.get(code, TranscriptionFailed)(detail or None)
