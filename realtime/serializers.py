from rest_framework import serializers


class ExpiresAfterSerializer(serializers.Serializer):
    anchor = serializers.ChoiceField(choices=["created_at"], default="created_at")
    seconds = serializers.IntegerField(min_value=10, max_value=60, default=60)


class ClientSecretInputSerializer(serializers.Serializer):
    """OpenAI's request. `session`: the settings the session starts with, as a `session.update` gives
    them (checked now), so a browser may stream at once."""

    expires_after = ExpiresAfterSerializer(required=False)
    session = serializers.DictField(required=False)


class ClientSecretSerializer(serializers.Serializer):
    value = serializers.CharField(help_text="`ek_…`: pass it as the subprotocol `openai-insecure-api-key.<value>`.")
    expires_at = serializers.IntegerField(help_text="Unix seconds; the secret opens one session before then.")
    session = serializers.DictField()
