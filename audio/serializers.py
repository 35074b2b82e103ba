from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from audio.selectors import audio_file_quote


class AudioFileUploadInputSerializer(serializers.Serializer):
    # Empty files reach the service, which refuses them with its own `empty_file` code.
    file = serializers.FileField(allow_empty_file=True)


class EstimatedCostSerializer(serializers.Serializer):
    demo_minutes_used = serializers.DecimalField(max_digits=10, decimal_places=2, read_only=True)
    charged_minutes = serializers.DecimalField(max_digits=10, decimal_places=2, read_only=True)
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)


class AudioFileOutputSerializer(serializers.Serializer):
    """An uploaded audio file, and what transcribing it would cost from your wallet as it stands."""

    # The view puts the caller's wallet in the context, read once for a whole page.

    id = serializers.UUIDField(read_only=True)
    original_filename = serializers.CharField(read_only=True)
    format = serializers.CharField(read_only=True)
    size_bytes = serializers.IntegerField(read_only=True)
    duration_seconds = serializers.DecimalField(max_digits=9, decimal_places=3, read_only=True)
    billable_minutes = serializers.SerializerMethodField()
    estimated_cost = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField(read_only=True)

    @extend_schema_field(serializers.DecimalField(max_digits=10, decimal_places=2))
    def get_billable_minutes(self, audio_file) -> str:
        return str(self._quote(audio_file).billable_minutes)

    @extend_schema_field(EstimatedCostSerializer)
    def get_estimated_cost(self, audio_file) -> dict:
        return EstimatedCostSerializer(self._quote(audio_file)).data

    def _quote(self, audio_file):
        return audio_file_quote(audio_file=audio_file, wallet=self.context["wallet"])


class DirectUploadInputSerializer(serializers.Serializer):
    filename = serializers.CharField(max_length=10_000, help_text="The file's name, kept (sanitised) for display.")
    size_bytes = serializers.IntegerField(min_value=0, help_text="The file's exact size: the URL takes no other.")


class DirectUploadOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="upload.pk", help_text="Complete it with POST /api/audio/uploads/{id}/complete/.")
    method = serializers.SerializerMethodField()
    url = serializers.URLField(help_text="Send the file's bytes here, as the body of one PUT.")
    headers = serializers.DictField(child=serializers.CharField(), help_text="Send these headers with the PUT.")
    expires_at = serializers.DateTimeField(source="upload.expires_at", help_text="The URL works until then.")

    def get_method(self, signed) -> str:
        return "PUT"
