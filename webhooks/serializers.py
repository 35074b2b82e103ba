from rest_framework import serializers

from webhooks.models import EVENTS, Delivery


class EndpointCreateInputSerializer(serializers.Serializer):
    url = serializers.URLField(
        max_length=2000,
        help_text="Where events are POSTed: a public http(s) URL (https in production). Redirects are not followed.",
    )
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EVENTS), min_length=1, help_text="The event types to send."
    )


class EndpointOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    url = serializers.URLField()
    events = serializers.ListField(child=serializers.ChoiceField(choices=EVENTS))
    created_at = serializers.DateTimeField()
    disabled_at = serializers.DateTimeField(
        allow_null=True, help_text="Set when deliveries kept failing; nothing is sent until a test succeeds."
    )
    disabled_reason = serializers.CharField()


class EndpointCreatedOutputSerializer(EndpointOutputSerializer):
    secret = serializers.CharField(
        help_text="Verifies the `webhook-signature` of what this endpoint receives (Standard Webhooks). Shown only now."
    )


class SigningSecretOutputSerializer(serializers.Serializer):
    secret = serializers.CharField(
        help_text="Signs what is sent to the `webhook_url` of a single transcription request (Standard Webhooks)."
    )


class DeliveryOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    event_id = serializers.CharField(help_text="The `webhook-id` header: the same on every attempt.")
    event_type = serializers.CharField()
    status = serializers.ChoiceField(choices=Delivery.Status.choices)
    attempts = serializers.IntegerField()
    last_status_code = serializers.IntegerField(allow_null=True, help_text="The HTTP status of the last answer.")
    last_error = serializers.CharField(help_text="Why the last attempt failed, if it did.")
    next_attempt_at = serializers.DateTimeField(allow_null=True, help_text="When it is tried again, while pending.")
    created_at = serializers.DateTimeField()
    delivered_at = serializers.DateTimeField(allow_null=True)
