"""The OpenAI-compatible `/v1` audio API: OpenAI's requests in, OpenAI's answers out, and in
between the services `/api/` uses. A call is an upload (`audio_file_create`) and a job
(`transcription_create`) of the caller, held, paid, listed and webhooked like any other; this
module owns only the protocol: parsing OpenAI's fields, answering OpenAI's shapes and errors.

Authentication is DRF's configured one (a JWT today; API keys when they are added there), sent
as OpenAI's SDKs send a key: `Authorization: Bearer <key>`.
"""

import logging
import time
from collections.abc import Iterator

from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer
from rest_framework.views import APIView

from accounts.authentication import signed_in_user
from accounts.models import User
from audio.models import AudioFile
from audio.services import audio_file_create, audio_file_delete, display_filename
from audio.upload_handlers import AudioUploadHandler
from config.exceptions import DomainError
from config.schema import IDEMPOTENCY_HEADER, IDEMPOTENCY_KEY_MAX_LENGTH, idempotency_key_parameter
from config.throttling import ScopedThrottleMixin
from openai_api import sse
from openai_api.catalogue import CREATED, OpenAIModel, openai_model, openai_models
from openai_api.errors import (
    TranscriptionStillRunning,
    UnknownParameter,
    UnsupportedParameter,
    error_body,
    openai_exception_handler,
)
from openai_api.responses import (
    Transcript,
    delta_event,
    diarized_json_body,
    json_body,
    model_body,
    model_list_body,
    stream_events,
    verbose_json_body,
)
from openai_api.schema import OpenAIAutoSchema, TranscriptionSchema, TranslationSchema
from openai_api.serializers import (
    TIMED_FORMATS,
    OpenAIModelListSerializer,
    OpenAIModelSerializer,
    OpenAITranscriptionInputSerializer,
    OpenAITranscriptionSerializer,
    OpenAITranslationInputSerializer,
    form_data,
)
from openai_api.waiting import is_active, job_states, job_wait
from transcriptions.decoded import decoded_segments
from transcriptions.exceptions import IdempotencyKeyReused, UnsupportedOption, failure_error
from transcriptions.exports import transcription_document
from transcriptions.models import Transcription
from transcriptions.selectors import transcription_by_idempotency_key
from transcriptions.services import transcription_create

logger = logging.getLogger(__name__)

JOB_HEADER = "X-Transcription-Id"
# A stream with nothing to say for this long says so in a comment, so proxies keep it open.
KEEPALIVE_SECONDS = 10.0


class OpenAIView(APIView):
    """A `/v1` endpoint: errors in OpenAI's shape, in the schema under its own tag, and no query
    parameters (OpenAI's audio endpoints take none; one sent is refused, not ignored)."""

    schema = OpenAIAutoSchema()

    def get_exception_handler(self):
        return openai_exception_handler

    def initial(self, request: Request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        for name in request.query_params:
            raise UnknownParameter(f"Unrecognized query parameter: {name}.", param=name)


class ModelListView(OpenAIView):
    @extend_schema(operation_id="v1_models_list", responses={200: OpenAIModelListSerializer})
    def get(self, request: Request) -> Response:
        """The models this server transcribes with: `whisper-1` (its default engine) and the engine's own."""
        return Response(model_list_body([_model_object(model) for model in openai_models()]))


class ModelDetailView(OpenAIView):
    @extend_schema(
        operation_id="v1_models_retrieve",
        responses={200: OpenAIModelSerializer, 404: OpenApiResponse(description="`model_not_found`")},
    )
    def get(self, request: Request, model: str) -> Response:
        """One model of `GET /v1/models`."""
        return Response(_model_object(openai_model(model)))


def _model_object(model: OpenAIModel) -> dict:
    return model_body(model_id=model.id, owned_by=model.owned_by, created=CREATED)


# What a request for a job can answer besides its 200s and its 400 (each operation words its own).
JOB_ERRORS = {
    404: OpenApiResponse(description="`model_not_found`"),
    413: OpenApiResponse(description="`file_too_large`: over `MAX_UPLOAD_MB`; nothing stored"),
    422: OpenApiResponse(
        description="`transcription_rejected`: the engine refused this audio (nothing charged); "
        "`idempotency_key_reused`: the key was used for another file, the other endpoint or on /api/"
    ),
    429: OpenApiResponse(
        description="`insufficient_quota` (type `insufficient_quota`, header `x-should-retry: false`): "
        "demo minutes and balance do not cover the audio, nothing held; `rate_limit_exceeded` (type "
        "`requests`, with `Retry-After`)"
    ),
    503: OpenApiResponse(
        description="`transcription_engine_unavailable`, `transcription_queue_unavailable`, "
        "`transcription_storage_unavailable`, `storage_unavailable`, `service_unavailable`: nothing charged"
    ),
    504: OpenApiResponse(
        description="`transcription_still_running` (header `x-should-retry: false`, with "
        "`transcription_id`): the job outlived `OPENAI_API_WAIT_SECONDS`; it goes on and is charged when "
        "it completes: find it in /api/transcriptions/"
    ),
}


class TranscriptionView(ScopedThrottleMixin, OpenAIView):
    schema = TranscriptionSchema()
    parser_classes = [MultiPartParser]
    throttle_scope = "transcribe"

    def initialize_request(self, request: HttpRequest, *args, **kwargs) -> Request:
        # Before DRF wraps the request: the upload streams to disk and stops at MAX_UPLOAD_MB.
        if request.method == "POST":
            request.upload_handlers = [AudioUploadHandler(request)]
        return super().initialize_request(request, *args, **kwargs)

    @extend_schema(
        operation_id="v1_audio_transcriptions_create",
        request={"multipart/form-data": OpenAITranscriptionInputSerializer},
        parameters=[
            idempotency_key_parameter(
                description="Sending a request again with the same key makes no second job: it waits for the "
                "first one's job and answers from it.",
            )
        ],
        responses={
            (200, "application/json"): OpenApiResponse(
                OpenAITranscriptionSerializer,
                description="`json`, `verbose_json` or `diarized_json`, as `response_format` asks.",
            ),
            (200, "text/plain"): OpenApiResponse(OpenApiTypes.STR, description="`text`, `srt`, `vtt`"),
            (200, "text/event-stream"): OpenApiResponse(
                OpenApiTypes.STR,
                description='`stream=true`: `data: {"type": "transcript.text.delta", "delta"}` events, then '
                '`data: {"type": "transcript.text.done", "text", "usage"}`; a job that fails sends '
                '`data: {"error": {...}}` instead.',
            ),
            400: OpenApiResponse(
                description="`missing_required_parameter` (`file`, `model`), `unknown_parameter`, "
                "`unsupported_parameter`, `unsupported_value`, `invalid_value`, `empty_file`, `unsupported_format`, "
                "`invalid_audio`, `audio_too_long`, `unsupported_language`, `unsupported_option` (e.g. "
                "`diarized_json` on the offline engine, `redact_pii_audio` with a model that times no words): `param` "
                "names the field; nothing stored or held"
            ),
            **JOB_ERRORS,
        },
    )
    def post(self, request: Request) -> HttpResponseBase:
        """Transcribe an audio file, as OpenAI's `POST /v1/audio/transcriptions` does, paid from your
        wallet (demo minutes first) and listed in /api/transcriptions/ with `source` `openai`."""
        return self.serve(request, OpenAITranscriptionInputSerializer, task=Transcription.Task.TRANSCRIBE)

    def serve(self, request: Request, fields: type[Serializer], *, task: str) -> HttpResponseBase:
        """One request of OpenAI's audio API (its `fields`), as a job doing `task`."""
        params = fields(data=form_data(request.data, fields))
        params.is_valid(raise_exception=True)
        options = params.validated_data
        model = openai_model(options["model"])
        _refuse_what_the_model_cannot_do(model, options)
        user = signed_in_user(request)
        key = _idempotency_key(request)
        job = transcription_by_idempotency_key(user=user, key=key) if key else None
        if job is None:
            job = _transcribe(user=user, model=model, options=options, task=task, idempotency_key=key)
        else:
            _check_sent_again(job, upload=options["file"], task=task)
        if options.get("stream") and job.status != Transcription.Status.FAILED:  # one that failed is an error
            response: HttpResponseBase = StreamingHttpResponse(_event_stream(job), content_type=sse.CONTENT_TYPE)
            response["Cache-Control"] = "no-cache"
            response["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
        else:
            response = _answer(job_wait(job), response_format=options["response_format"], options=options)
        response[JOB_HEADER] = str(job.pk)
        return response


class TranslationView(TranscriptionView):
    schema = TranslationSchema()

    @extend_schema(
        operation_id="v1_audio_translations_create",
        request={"multipart/form-data": OpenAITranslationInputSerializer},
        parameters=[
            idempotency_key_parameter(
                description="Sending a request again with the same key makes no second job: it waits for the "
                "first one's job and answers from it.",
            )
        ],
        responses={
            (200, "application/json"): OpenApiResponse(
                OpenAITranscriptionSerializer, description="`json` or `verbose_json`, as `response_format` asks."
            ),
            (200, "text/plain"): OpenApiResponse(OpenApiTypes.STR, description="`text`, `srt`, `vtt`"),
            400: OpenApiResponse(
                description="`missing_required_parameter` (`file`, `model`), `unknown_parameter`, "
                "`unsupported_parameter`, `unsupported_value`, `invalid_value`, `empty_file`, `unsupported_format`, "
                "`invalid_audio`, `audio_too_long`, `unsupported_option` (a model that cannot translate, such as "
                "an English-only offline model; `redact_pii_audio` on the OpenAI engine, whose translations time no "
                "words): `param` names the field; nothing stored or held"
            ),
            **JOB_ERRORS,
        },
    )
    def post(self, request: Request) -> HttpResponseBase:
        """Translate speech in any language to English text, as OpenAI's `POST /v1/audio/translations`
        does: a job with `task` `translate`, paid and listed like a transcription."""
        return self.serve(request, OpenAITranslationInputSerializer, task=Transcription.Task.TRANSLATE)


def _refuse_what_the_model_cannot_do(model: OpenAIModel, options: dict) -> None:
    response_format = options["response_format"]
    if response_format in TIMED_FORMATS and not model.gives_segments:
        raise UnsupportedParameter(
            f"The model `{model.id}` gives no timestamps here: ask for `json` or `text`, or a model that does.",
            param="response_format",
        )
    if model.labels_speakers and "word" in options.get("timestamp_granularities[]", []):
        raise UnsupportedParameter(
            f"The model `{model.id}` labels speakers and times no words.", param="timestamp_granularities[]"
        )


def _transcribe(
    *, user: User, model: OpenAIModel, options: dict, task: str, idempotency_key: str | None
) -> Transcription:
    """Store the upload as an audio file of the user's and request its job. A refusal of the job
    (quota, option, language) deletes the file again: nothing is left behind."""
    upload = options["file"]
    audio_file = audio_file_create(user=user, file=upload, original_filename=upload.name)
    words = "word" in options.get("timestamp_granularities[]", [])
    try:
        job, created = transcription_create(
            user=user,
            audio_file_id=audio_file.pk,
            model=model.model,
            source=Transcription.Source.OPENAI,
            task=task,
            language=options.get("language", "").lower(),
            keywords=options.get("keywords[]", []),
            prompt=options.get("prompt", ""),
            timestamps=Transcription.Timestamps.WORD if words else Transcription.Timestamps.SEGMENT,
            speaker_labels=model.labels_speakers or options["response_format"] == "diarized_json",
            redact_pii=options.get("redact_pii", False),
            redact_pii_policies=options.get("redact_pii_policies[]", ()),
            redact_pii_sub=options.get("redact_pii_sub", ""),
            redact_pii_audio=options.get("redact_pii_audio", False),
            redact_pii_audio_method=options.get("redact_pii_audio_method", ""),
            idempotency_key=idempotency_key,
        )
    except IdempotencyKeyReused:  # a request with the same key made its job while this one uploaded
        _discard(audio_file)
        first = transcription_by_idempotency_key(user=user, key=idempotency_key or "")
        if first is None:
            raise
        _check_sent_again(first, upload=upload, task=task)
        return first
    except UnsupportedOption as exc:
        _discard(audio_file)
        exc.extra.setdefault("param", _param_refused(options))
        raise
    except Exception:
        _discard(audio_file)
        raise
    if not created:
        _discard(audio_file)
    return job


def _check_sent_again(first: Transcription, *, upload: UploadedFile, task: str) -> None:
    """A request sent again with its Idempotency-Key (a retry) carries its file again. The key's
    first job answers it only if that job was made here, for the same task, from a file of the same
    name and size; anything else is `IdempotencyKeyReused`, never the first job's answer to another
    file, as `/api/` refuses a key reused for another audio file."""
    if first.source != Transcription.Source.OPENAI:
        raise IdempotencyKeyReused("This Idempotency-Key was already used for a request to /api/.")
    size = first.audio_file.size_bytes if first.audio_file else upload.size  # a deleted file: its name alone
    if (first.task, first.audio_filename, size) != (task, display_filename(upload.name or ""), upload.size):
        raise IdempotencyKeyReused("This Idempotency-Key was already used for another file or another endpoint.")


def _param_refused(options: dict) -> str:
    """The field an option the engine cannot serve is blamed on: the format that asks for speakers,
    else the redacted audio (its word timings are what neither a translation on OpenAI nor a
    gpt-4o model gives), else the model."""
    if options["response_format"] == "diarized_json":
        return "response_format"
    return "redact_pii_audio" if options.get("redact_pii_audio") else "model"


def _discard(audio_file: AudioFile) -> None:
    try:
        audio_file_delete(audio_file=audio_file)
    except Exception:  # the refusal being answered matters more; the file stays listed in /api/audio/
        logger.exception("Could not delete audio file %s after its transcription was refused", audio_file.pk)


def _answer(job: Transcription, *, response_format: str, options: dict) -> HttpResponse:
    if is_active(job):
        raise _still_running(job)
    if job.status == Transcription.Status.FAILED:
        raise _failure(job)
    if response_format in ("text", "srt", "vtt"):
        document = transcription_document(
            transcription=job, file_format="txt" if response_format == "text" else response_format
        )
        return HttpResponse(document.content, content_type="text/plain; charset=utf-8")
    transcript = _transcript(job)
    if response_format == "verbose_json":
        granularities = options.get("timestamp_granularities[]", [])
        body = verbose_json_body(
            transcript, segments="segment" in granularities or not granularities, words="word" in granularities
        )
    elif response_format == "diarized_json":
        body = diarized_json_body(transcript)
    else:
        body = json_body(transcript)
    return Response(body)


def _transcript(job: Transcription) -> Transcript:
    return Transcript(
        text=job.text,
        segments=job.segments,
        duration_seconds=job.audio_duration_seconds,
        language=job.spoken_language,
        task=job.task,
    )


def _failure(job: Transcription) -> DomainError:
    error = failure_error(code=job.error_code, detail=job.error)
    error.extra["transcription_id"] = str(job.pk)
    return error


def _still_running(job: Transcription) -> TranscriptionStillRunning:
    return TranscriptionStillRunning(
        TranscriptionStillRunning.default_detail.replace("{id}", str(job.pk)), transcription_id=str(job.pk)
    )


def _event_stream(job: Transcription) -> Iterator[bytes]:
    """The job's events: while it runs, a `transcript.text.delta` for each segment as the worker
    decodes it, and comments with its progress; then the deltas of the text not yet sent and one
    `transcript.text.done`, or an error event. The job is only read: a client that goes away
    leaves it to finish, once."""
    said, last, sent = None, time.monotonic(), 0
    for state in job_states(job):
        for segment in decoded_segments(state.pk, run_id=state.run_id, start=sent) if state.run_id else []:
            yield sse.event(delta_event(segment["text"] if sent == 0 else " " + segment["text"]))
            sent += 1
        now = time.monotonic()
        if (state.status, state.progress) != said or now - last >= KEEPALIVE_SECONDS:
            said, last = (state.status, state.progress), now
            yield sse.comment(f"{state.status} {state.progress}%")
    if is_active(job):
        yield sse.event(_error_event(_still_running(job)))
    elif job.status == Transcription.Status.FAILED:
        yield sse.event(_error_event(_failure(job)))
    else:
        for event in stream_events(_transcript(job), already_sent=sent):
            yield sse.event(event)


def _error_event(error: DomainError) -> dict:
    kind = "server_error" if error.status_code >= 500 else "invalid_request_error"
    return error_body(message=error.detail, type=kind, code=error.code, **error.extra)


def _idempotency_key(request: Request) -> str | None:
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        return None
    if not key or len(key) > IDEMPOTENCY_KEY_MAX_LENGTH or not key.isascii() or not key.isprintable():
        raise UnsupportedParameter(
            f"{IDEMPOTENCY_HEADER}: use 1 to {IDEMPOTENCY_KEY_MAX_LENGTH} printable ASCII characters.",
            param=IDEMPOTENCY_HEADER,
        )
    return key


@csrf_exempt  # a POST to a URL that does not exist is a 404, not a CSRF failure
def not_found(request: HttpRequest, path: str = "") -> JsonResponse:
    """Any other `/v1` URL, as OpenAI answers one."""
    message = f"Invalid URL ({request.method} {request.path})."
    return JsonResponse(error_body(message=message, type="invalid_request_error", code="unknown_url"), status=404)
