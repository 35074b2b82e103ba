from rest_framework import serializers

# Google ID tokens are about 1 kB, Google access tokens at most 2 kB, Facebook's far less.
TOKEN_MAX_LENGTH = 4096


class UserOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
    email = serializers.EmailField(read_only=True)
    name = serializers.CharField(read_only=True)
    provider = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)


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
