from uuid import UUID

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import signed_in_user
from audio.models import AudioFile
from audio.selectors import audio_file_list, direct_upload_get
from audio.serializers import (
    AudioFileOutputSerializer,
    AudioFileUploadInputSerializer,
    DirectUploadInputSerializer,
    DirectUploadOutputSerializer,
)
from audio.services import audio_file_create, audio_file_delete, direct_upload_complete, direct_upload_start
from audio.upload_handlers import AudioUploadHandler
from config.schema import error
from config.throttling import ScopedThrottleMixin
from wallet.selectors import wallet_get


class AudioFileViewSet(ScopedThrottleMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = AudioFileOutputSerializer
    parser_classes = [MultiPartParser]
    throttle_scope = "upload"
    throttled_actions = frozenset({"create"})
    lookup_value_converter = "uuid"  # anything else is a 404, not a validation error

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator's request has no user
            return AudioFile.objects.none()
        return audio_file_list(user=signed_in_user(self.request))

    def get_serializer_context(self) -> dict:
        return {**super().get_serializer_context(), "wallet": wallet_get(user=signed_in_user(self.request))}

    def initialize_request(self, request, *args, **kwargs):
        # Before DRF wraps the request, so before anything reads the body: uploads stream to disk
        # and stop being read as soon as they outgrow MAX_UPLOAD_MB.
        if request.method == "POST":
            request.upload_handlers = [AudioUploadHandler(request)]
        return super().initialize_request(request, *args, **kwargs)

    @extend_schema(
        request=AudioFileUploadInputSerializer,
        responses={
            201: AudioFileOutputSerializer,
            400: error(
                "`empty_file`, `unsupported_format` (not audio, whatever its name says), `invalid_audio` (truncated "
                "or corrupt, or no duration), `audio_too_long` (over `MAX_AUDIO_MINUTES`), `invalid` (no `file`)"
            ),
            413: error("`file_too_large`: over `MAX_UPLOAD_MB`; nothing was stored."),
            503: error("`storage_unavailable`: the file could not be stored (the object store is away); nothing kept."),
        },
    )
    def create(self, request: Request) -> Response:
        data = AudioFileUploadInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        audio_file = audio_file_create(user=signed_in_user(request), file=upload, original_filename=upload.name)
        return Response(self.get_serializer(audio_file).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: None, 409: error("`audio_in_use`: a transcription of it is pending or processing.")})
    def destroy(self, request: Request, pk=None) -> Response:
        audio_file_delete(audio_file=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class DirectUploadView(ScopedThrottleMixin, APIView):
    throttle_scope = "upload"

    @extend_schema(
        request=DirectUploadInputSerializer,
        responses={
            201: DirectUploadOutputSerializer,
            400: error(
                "`direct_upload_unavailable` (audio is kept on the server's disk: use POST /api/audio/), "
                "`empty_file`, `invalid`"
            ),
            413: error("`file_too_large`: over `MAX_UPLOAD_MB`."),
        },
        operation_id="audio_uploads_create",
    )
    def post(self, request: Request) -> Response:
        """Start a direct upload of a large file: PUT its bytes to the signed URL answered, then
        complete it. Nothing passes through this server."""
        data = DirectUploadInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        signed = direct_upload_start(user=signed_in_user(request), **data.validated_data)
        return Response(DirectUploadOutputSerializer(signed).data, status=status.HTTP_201_CREATED)


class DirectUploadCompleteView(APIView):
    @extend_schema(
        request=None,
        responses={
            201: AudioFileOutputSerializer,
            400: error(
                "As for POST /api/audio/: `empty_file`, `unsupported_format`, `invalid_audio`, `audio_too_long`; "
                "the uploaded object is deleted"
            ),
            404: error("`not_found`: no such upload of yours (or it was completed or refused already)."),
            409: error("`upload_missing`: nothing was sent to the URL yet."),
            413: error("`file_too_large`: the object is over `MAX_UPLOAD_MB`; it is deleted."),
            503: error("`storage_unavailable`: the object store could not be reached; try again."),
        },
        operation_id="audio_uploads_complete",
    )
    def post(self, request: Request, pk: UUID) -> Response:
        """Check the uploaded file as an upload is checked, and make it one of your audio files."""
        user = signed_in_user(request)
        upload = direct_upload_get(user=user, upload_id=pk)
        audio_file = direct_upload_complete(upload=upload)
        context = {"wallet": wallet_get(user=user)}
        return Response(AudioFileOutputSerializer(audio_file, context=context).data, status=status.HTTP_201_CREATED)
