from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.authentication import signed_in_user
from audio.models import AudioFile
from audio.selectors import audio_file_list
from audio.serializers import AudioFileOutputSerializer, AudioFileUploadInputSerializer
from audio.services import audio_file_create, audio_file_delete
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
