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
