from rest_framework import serializers


class UserOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
    email = serializers.EmailField(read_only=True)
    name = serializers.CharField(read_only=True)
    provider = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)


class LogoutInputSerializer(serializers.Serializer):
    refresh = serializers.CharField()
