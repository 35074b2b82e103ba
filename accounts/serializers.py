from rest_framework import serializers

# Google ID tokens are about 1 kB, Google access tokens at most 2 kB, Facebook's far less.
TOKEN_MAX_LENGTH = 4096


class UserOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
    email = serializers.EmailField(read_only=True)
    name = serializers.CharField(read_only=True)
    provider = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)


ERASE_CONFIRMATION = "delete-my-account"


class UserDeleteInputSerializer(serializers.Serializer):
    confirmation = serializers.CharField(help_text=f"Exactly `{ERASE_CONFIRMATION}`: the deletion cannot be undone.")

    def validate_confirmation(self, value: str) -> str:
        if value != ERASE_CONFIRMATION:
            raise serializers.ValidationError(f'Send "{ERASE_CONFIRMATION}" to confirm.')
        return value


class UserExportOutputSerializer(serializers.Serializer):
    exported_at = serializers.DateTimeField()
    profile = serializers.JSONField(help_text="Who you are to this service: id, email, name, provider, dates.")
    wallet = serializers.JSONField(help_text="Balance, holds, demo minutes, totals, and every ledger line.")
    audio_files = serializers.JSONField(help_text="Your uploads (names, formats, sizes, durations), not their bytes.")
    transcriptions = serializers.JSONField(
        help_text="Every transcription you have not deleted, with text and segments."
    )
    payments = serializers.JSONField(help_text="Your Razorpay orders and their payments.")
    webhooks = serializers.JSONField(help_text="Your webhook endpoints (without secrets).")
    api_keys = serializers.JSONField(
        help_text="Your API keys, revoked ones too, without secrets: id, name, prefix and dates (created, last "
        "used, revoked)."
    )


class LogoutInputSerializer(serializers.Serializer):
    refresh = serializers.CharField()


class GoogleLoginInputSerializer(serializers.Serializer):
    id_token = serializers.CharField(
        required=False,
        max_length=TOKEN_MAX_LENGTH,
        help_text="The ID token (credential) from Google Identity Services.",
    )
    access_token = serializers.CharField(
        required=False, max_length=TOKEN_MAX_LENGTH, help_text="A Google OAuth access token; used when no id_token."
    )

    def validate(self, attrs: dict) -> dict:
        if not attrs.get("id_token") and not attrs.get("access_token"):
            raise serializers.ValidationError("Send the id_token (or an access_token) Google gave you.")
        return attrs


class FacebookLoginInputSerializer(serializers.Serializer):
    access_token = serializers.CharField(
        max_length=TOKEN_MAX_LENGTH, help_text="The user access token from the Facebook SDK."
    )


class LoginOutputSerializer(serializers.Serializer):
    user = UserOutputSerializer(read_only=True)
    access = serializers.CharField(read_only=True)
    refresh = serializers.CharField(read_only=True)
    created = serializers.BooleanField(read_only=True, help_text="True when this sign-in created the account.")


class StringField(serializers.CharField):
    """Text only: DRF's `CharField` would take the number 0 as the name "0"."""

    def to_internal_value(self, data: object) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class ApiKeyCreateInputSerializer(serializers.Serializer):
    name = StringField(max_length=100, help_text="What the key is for, to tell it from your others.")


class ApiKeyOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    prefix = serializers.CharField(help_text="The key's first characters (`sk-` and 8 more), to tell keys apart.")
    created_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(
        allow_null=True, help_text="When the key last signed a request in, to the minute; null if never."
    )


class ApiKeyCreatedOutputSerializer(serializers.Serializer):
    """The new key (an `accounts.services.IssuedApiKey`): its record and, this once, its secret."""

    id = serializers.UUIDField(source="api_key.id")
    name = serializers.CharField(source="api_key.name")
    prefix = serializers.CharField(source="api_key.prefix")
    key = serializers.CharField(
        help_text="The key: send it as `Authorization: Bearer <key>`. Shown only now; this service keeps only its "
        "hash, so keep it safe (lost, revoke it and make another)."
    )
    created_at = serializers.DateTimeField(source="api_key.created_at")
    last_used_at = serializers.DateTimeField(source="api_key.last_used_at", allow_null=True)
