from pathlib import Path

from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.response import Response

from accounts.authentication import signed_in_user
from config.filters import require_single_values
from config.schema import IDEMPOTENCY_HEADER, IDEMPOTENCY_KEY_MAX_LENGTH, idempotency_key_parameter
from config.throttling import ScopedThrottleMixin
from transcriptions.exceptions import IdempotencyKeyInUse, failure_error
from transcriptions.exports import transcription_csv_lines, transcription_document
from transcriptions.filters import TranscriptionFilter
from transcriptions.models import Transcription
from transcriptions.pagination import TranscriptionPagination
from transcriptions.selectors import ACTIVE_STATUSES, transcription_list
from transcriptions.serializers import (
    TranscriptionCreateInputSerializer,
    TranscriptionDownloadInputSerializer,
    TranscriptionListOutputSerializer,
    TranscriptionOutputSerializer,
)
from transcriptions.services import (
    transcription_create,
    transcription_delete,
    transcription_record_answer,
    transcription_redacted_audio_open,
)

_ERROR = OpenApiResponse(description='`{"detail", "code"}`')


class FileNegotiation(DefaultContentNegotiation):
    """For the file downloads: `?format=` names the file format, not an API renderer, and any
    `Accept` is fine; errors are still JSON."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class TranscriptionViewSet(ScopedThrottleMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    filterset_class = TranscriptionFilter
    pagination_class = TranscriptionPagination
    throttle_scope = "transcribe"
    throttled_actions = frozenset({"create"})
    lookup_value_converter = "uuid"  # anything else is a 404, not a validation error

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Transcription.objects.none()
        return transcription_list(user=signed_in_user(self.request))

    def get_serializer_class(self):
        return TranscriptionListOutputSerializer if self.action == "list" else TranscriptionOutputSerializer

    @extend_schema(
        request=TranscriptionCreateInputSerializer,
        parameters=[
            idempotency_key_parameter(
                description="Repeating a request with the same key makes no second job: it gets the first "
                "answer's status code and the job as it is now (409 while the first is still running).",
            )
        ],
        responses={
            201: TranscriptionOutputSerializer,
            202: OpenApiResponse(TranscriptionOutputSerializer, description="Queued for a worker; poll it."),
            400: OpenApiResponse(
                description="`invalid`, `insufficient_balance`, `unsupported_language`, `unsupported_option`, "
                "`webhook_url_not_allowed` (not http(s), or resolves to a loopback, private, link-local or "
                "metadata address); nothing held"
            ),
            404: OpenApiResponse(description="Not one of your audio files."),
            409: OpenApiResponse(
                description="`already_transcribed` (with `transcription_id`), `transcription_in_progress`, "
                "`idempotency_key_in_use`"
            ),
            422: OpenApiResponse(
                description="`transcription_rejected`: the engine refused this audio (job failed, nothing charged); "
                "`idempotency_key_reused`"
            ),
            503: OpenApiResponse(
                description="`transcription_engine_unavailable`, `transcription_queue_unavailable`: "
                "job failed, nothing charged"
            ),
        },
    )
    def create(self, request):
        """Transcribe one of your audio files, paying for it from your wallet (demo minutes first)."""
        serializer = TranscriptionCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        transcription, created = transcription_create(
            user=signed_in_user(request),
            audio_file_id=serializer.validated_data["audio_file"],
            task=serializer.validated_data["task"],
            language=serializer.validated_data.get("language", ""),
            language_confidence_threshold=serializer.validated_data.get("language_confidence_threshold"),
            keywords=serializer.validated_data["keywords"],
            prompt=serializer.validated_data.get("prompt", ""),
            timestamps=serializer.validated_data["timestamps"],
            speaker_labels=serializer.validated_data["speaker_labels"],
            speakers_expected=serializer.validated_data.get("speakers_expected"),
            webhook_url=serializer.validated_data.get("webhook_url", ""),
            redact_pii=serializer.validated_data["redact_pii"],
            redact_pii_policies=serializer.validated_data.get("redact_pii_policies", ()),
            redact_pii_sub=serializer.validated_data.get("redact_pii_sub", ""),
            redact_pii_audio=serializer.validated_data["redact_pii_audio"],
            redact_pii_audio_method=serializer.validated_data.get("redact_pii_audio_method", ""),
            force=serializer.validated_data["force"],
            idempotency_key=_idempotency_key(request),
        )
        if not created and not transcription.answered_as and transcription.status in ACTIVE_STATUSES:
            raise IdempotencyKeyInUse()
        answered_as = transcription.answered_as or transcription.status
        if transcription.idempotency_key and not transcription.answered_as:
            answered_as = transcription_record_answer(transcription=transcription)
        status_code = _status_for(transcription, as_status=answered_as)
        if status_code >= 400:
            raise failure_error(code=transcription.error_code, detail=transcription.error)
        response = Response(TranscriptionOutputSerializer(transcription).data, status=status_code)
        if not created:
            response["Idempotent-Replayed"] = "true"
        return response

    @extend_schema(responses={200: TranscriptionOutputSerializer, 404: _ERROR})
    def retrieve(self, request, pk=None):
        """One of your transcriptions: text, segments, cost, engine and timings; poll it for `progress`."""
        return Response(TranscriptionOutputSerializer(self.get_object()).data)

    @extend_schema(
        responses={
            204: None,
            404: _ERROR,
            409: OpenApiResponse(description="`transcription_active`: wait until it has completed or failed"),
        }
    )
    def destroy(self, request, pk=None):
        """Erase a transcript for good: its text, segments and words. The job stays in your wallet's ledger
        (what it cost), but no longer in lists, exports or downloads."""
        transcription_delete(transcription=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        parameters=[TranscriptionDownloadInputSerializer],
        responses={
            (200, "text/plain"): OpenApiTypes.STR,
            (200, "application/x-subrip"): OpenApiTypes.STR,
            (200, "text/vtt"): OpenApiTypes.STR,
            (200, "application/json"): OpenApiTypes.OBJECT,
            400: OpenApiResponse(description="`no_segments`: the model gave no timestamps; `invalid` format"),
            404: _ERROR,
            409: OpenApiResponse(description="`transcription_not_completed`"),
        },
    )
    @action(detail=True, methods=["get"], content_negotiation_class=FileNegotiation)
    def download(self, request, pk=None):
        """The transcript as a file named after the audio: text, SubRip/WebVTT subtitles (cues of at most
        7 s and 84 characters when word timings are known), or JSON with every segment and word."""
        transcription = self.get_object()
        require_single_values(request.query_params, TranscriptionDownloadInputSerializer().fields)
        params = TranscriptionDownloadInputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        document = transcription_document(transcription=transcription, file_format=params.validated_data["format"])
        response = HttpResponse(document.content, content_type=f"{document.content_type}; charset=utf-8")
        response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=document.filename)
        return response

    @extend_schema(
        responses={
            (200, "audio/flac"): OpenApiTypes.BINARY,
            404: OpenApiResponse(description="`not_found`; `no_redacted_audio`: none was asked for, or not yet"),
        }
    )
    @action(detail=True, methods=["get"], content_negotiation_class=FileNegotiation)
    def redacted_audio(self, request, pk=None):
        """The audio as long as it was, with each redacted identifier (padded by 100 ms) a 1 kHz beep or
        silence; FLAC. Only for a transcription asked for with `"redact_pii_audio": true`."""
        transcription = self.get_object()
        file = transcription_redacted_audio_open(transcription=transcription)
        stem = Path(transcription.audio_filename).stem or "audio"
        return FileResponse(file, as_attachment=True, filename=f"{stem}.redacted.flac", content_type="audio/flac")

    @extend_schema(filters=True, responses={(200, "text/csv"): OpenApiTypes.STR, 400: _ERROR})
    @action(detail=False, methods=["get"], content_negotiation_class=FileNegotiation, pagination_class=None)
    def export_csv(self, request):
        """All your transcriptions matching the list's filters, as a streamed CSV (UTF-8 with BOM)."""
        queryset = self.filter_queryset(self.get_queryset())
        response = StreamingHttpResponse(
            transcription_csv_lines(queryset=queryset), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename="transcriptions.csv")
        return response


def _idempotency_key(request) -> str | None:
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        return None
    if not key or len(key) > IDEMPOTENCY_KEY_MAX_LENGTH or not key.isascii() or not key.isprintable():
        raise ValidationError(
            {IDEMPOTENCY_HEADER: [f"Use 1 to {IDEMPOTENCY_KEY_MAX_LENGTH} printable ASCII characters."]}
        )
    return key


def _status_for(transcription: Transcription, *, as_status: str) -> int:
    """201 when the result is there, 202 while queued or running, else the failure's status."""
    if as_status == Transcription.Status.COMPLETED:
        return status.HTTP_201_CREATED
    if as_status in ACTIVE_STATUSES:
        return status.HTTP_202_ACCEPTED
    return failure_error(code=transcription.error_code, detail=transcription.error).status_code
