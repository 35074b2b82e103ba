"""OpenAI's request fields, checked; and its response shapes, declared for the OpenAPI schema
(`responses.py` builds the bodies).

Every field of OpenAI's transcription request is known here, and each is either served or refused
by name: nothing a client sends is dropped without a word.
"""

from django.http import QueryDict
from rest_framework import serializers

from openai_api.errors import UnknownParameter, UnsupportedParameter
from transcriptions.serializers import (
    MAX_PROMPT_CHARS,
    check_redaction_options,
    keywords_field,
    language_field,
    prompt_field,
    redact_pii_audio_field,
    redact_pii_audio_method_field,
    redact_pii_field,
    redact_pii_policies_field,
    redact_pii_sub_field,
)

RESPONSE_FORMATS = ["json", "text", "srt", "verbose_json", "vtt", "diarized_json"]
TRANSLATION_FORMATS = ["json", "text", "srt", "verbose_json", "vtt"]
GRANULARITIES = ["word", "segment"]
TASKS = ["transcribe", "translate"]
# Constants of OpenAI's shapes (each named in the schema by ENUM_NAME_OVERRIDES, apart from /api's enums).
USAGE_TYPES = ["duration"]
SEGMENT_TYPES = ["transcript.text.segment"]
MODEL_OBJECTS = ["model"]
LIST_OBJECTS = ["list"]
# Formats that need the model's timestamps, and the formats a stream can end in.
TIMED_FORMATS = frozenset({"srt", "verbose_json", "vtt", "diarized_json"})
STREAMED_FORMATS = frozenset({"json", "text"})
# Fields that take several values, sent as `name[]` (OpenAI's SDKs) or `name`; parsed under `name[]`.
LIST_FIELDS = (
    "timestamp_granularities",
    "known_speaker_names",
    "known_speaker_references",
    "include",
    "keywords",
    "redact_pii_policies",
)
# Fields of OpenAI's transcription request (for its gpt-transcribe model) that no engine here serves yet.
NOT_SERVED = {
    "languages": "Several languages are not served: give one `language`.",
    "languages[]": "Several languages are not served: give one `language`.",
}


def _file_field() -> serializers.FileField:
    return serializers.FileField(
        help_text="The audio: FLAC, MP3, MP4/M4A, Ogg, WAV or WebM, up to `MAX_UPLOAD_MB` and `MAX_AUDIO_MINUTES` "
        "(beyond OpenAI's 25 MB and 1,400 s; long audio is cut at pauses and sent in pieces)."
    )


def _model_field() -> serializers.CharField:
    return serializers.CharField(
        max_length=100,
        help_text="A model of `GET /v1/models`: `whisper-1` is this server's default engine, whatever it is.",
    )


def _prompt_field() -> serializers.CharField:
    return prompt_field(
        help_text=f"Context for the speech, up to {MAX_PROMPT_CHARS} characters (the job's `prompt`): put before the "
        "audio within Whisper's 224-token window, as OpenAI does (on the offline engine, as faster-whisper's "
        "hotwords). Not with `gpt-4o-transcribe-diarize` (400 `unsupported_option`)."
    )


def _temperature_field() -> serializers.FloatField:
    return serializers.FloatField(
        required=False,
        default=0.0,
        min_value=0.0,
        max_value=1.0,
        help_text="Only 0 is served: decoding starts at temperature 0 and raises it only where it fails, which is "
        "what OpenAI's 0 means. Any other value is refused (400 `unsupported_value`).",
    )


class _AudioInputSerializer(serializers.Serializer):
    """What OpenAI's transcription and translation requests take and check alike, and our personal
    data redaction beside them."""

    # Ours, beyond OpenAI's fields (`extra_body` in its SDKs): as on POST /api/transcriptions/.
    redact_pii = redact_pii_field()
    redact_pii_policies = redact_pii_policies_field()
    redact_pii_sub = redact_pii_sub_field()
    redact_pii_audio = redact_pii_audio_field(
        help_text="With `redact_pii`: also make a copy of the audio, as long as it, in which each redacted identifier "
        "(padded by 100 ms) is a 1 kHz beep or silence: `GET /api/transcriptions/{id}/redacted_audio/` with the "
        "same key, `{id}` being this answer's `X-Transcription-Id` header. It needs word timings, which may pick "
        "the engine's model that gives them (OpenAI: whisper-1); the answer is still the `response_format` asked for."
    )
    redact_pii_audio_method = redact_pii_audio_method_field()

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        for name in LIST_FIELDS:  # named as OpenAI's SDKs send them
            if name in fields:
                fields[f"{name}[]"] = fields.pop(name)
        return fields

    def validate_temperature(self, value: float) -> float:
        if value != 0:
            raise serializers.ValidationError(
                "Only 0 is served (decoding starts at 0 and raises it only where it fails).", code="unsupported_value"
            )
        return value

    def validate(self, attrs: dict) -> dict:
        check_redaction_options(attrs, policies="redact_pii_policies[]")
        return attrs


class OpenAITranslationInputSerializer(_AudioInputSerializer):
    """`POST /v1/audio/translations`, multipart: speech in any language, its text in English."""

    file = _file_field()
    model = _model_field()
    prompt = _prompt_field()
    response_format = serializers.ChoiceField(
        choices=TRANSLATION_FORMATS,
        default="json",
        help_text="`json` (text and usage), `text`, `srt`, `vtt`, `verbose_json` (segments). Formats with "
        "timestamps need a model that gives them.",
    )
    temperature = _temperature_field()


class OpenAITranscriptionInputSerializer(_AudioInputSerializer):
    """`POST /v1/audio/transcriptions`, multipart."""

    file = _file_field()
    model = _model_field()
    language = language_field()
    prompt = _prompt_field()
    response_format = serializers.ChoiceField(
        choices=RESPONSE_FORMATS,
        default="json",
        help_text="`json` (text and usage), `text`, `srt`, `vtt`, `verbose_json` (segments, and words when asked), "
        "`diarized_json` (segments with speakers: the OpenAI engine only). Formats with timestamps need a model "
        "that gives them.",
    )
    temperature = _temperature_field()
    timestamp_granularities = serializers.ListField(
        child=serializers.ChoiceField(choices=GRANULARITIES),
        required=False,
        default=list,
        max_length=2,
        help_text="With `verbose_json`: `segment` (the default) and/or `word`.",
    )
    stream = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Answer Server-Sent Events: `transcript.text.delta` events, then `transcript.text.done` with "
        "the usage. With `json` or `text` only.",
    )
    chunking_strategy = serializers.CharField(
        required=False,
        help_text="Only `auto` is served: long audio is always cut at pauses here. A `server_vad` object is refused.",
    )
    known_speaker_names = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        default=list,
        help_text="Not served: speakers are lettered `A`, `B`, ... (refused when given).",
    )
    known_speaker_references = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        default=list,
        help_text="Not served (refused when given).",
    )
    include = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        default=list,
        help_text="Not served: no `logprobs` are kept (refused when given).",
    )
    keywords = keywords_field()

    def validate_chunking_strategy(self, value: str) -> str:
        if value != "auto":
            raise serializers.ValidationError(
                'Only "auto" is served: long audio is always cut at pauses.', code="unsupported_value"
            )
        return value

    def validate(self, attrs: dict) -> dict:
        attrs = super().validate(attrs)
        for name, why in (
            ("known_speaker_names[]", "Known speakers are not served yet: speakers are lettered A, B, ..."),
            ("known_speaker_references[]", "Known speakers are not served yet: speakers are lettered A, B, ..."),
            ("include[]", "Nothing can be included: no logprobs are kept."),
        ):
            if attrs.get(name):
                raise serializers.ValidationError({name: [why]}, code="unsupported_parameter")
        granularities = attrs.get("timestamp_granularities[]")
        if granularities and attrs["response_format"] != "verbose_json":
            raise serializers.ValidationError(
                {"timestamp_granularities[]": ["Only with `response_format` `verbose_json`."]}, code="unsupported_value"
            )
        if attrs["stream"] and attrs["response_format"] not in STREAMED_FORMATS:
            raise serializers.ValidationError(
                {"stream": ["A stream ends in text: use `response_format` `json` or `text`."]}, code="unsupported_value"
            )
        return attrs


def form_data(
    data: object, serializer_class: type[serializers.Serializer] = OpenAITranscriptionInputSerializer
) -> QueryDict:
    """The request's fields under the names `serializer_class` knows (`name[]` for lists, whichever
    way they were sent). Raises `UnknownParameter` naming a field OpenAI's API does not have, and
    `ValidationError` for a `chunking_strategy[...]` object (not served) or a single-valued field
    sent twice."""
    if not isinstance(data, QueryDict):  # multipart is always parsed to one
        raise serializers.ValidationError("Send the request as multipart/form-data.")
    known = set(serializer_class().fields)
    normalised = QueryDict(mutable=True)
    for name, values in data.lists():
        key = f"{name}[]" if name in LIST_FIELDS else name
        if key.startswith("chunking_strategy["):
            raise serializers.ValidationError(
                {"chunking_strategy": ['Only "auto" is served: a server_vad object is not.']}, code="unsupported_value"
            )
        if name in NOT_SERVED and serializer_class is OpenAITranscriptionInputSerializer:
            raise UnsupportedParameter(f"{name}: {NOT_SERVED[name]}", param=name)
        if key not in known:
            raise UnknownParameter(f"Unrecognized request argument supplied: {name}.", param=name)
        if not key.endswith("[]") and len(values) > 1:
            raise serializers.ValidationError({name: ["Give it once."]})
        normalised.setlist(key, [*normalised.getlist(key), *values])
    return normalised


# --- Response shapes, for the schema ----------------------------------------------------------


class OpenAIUsageSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=USAGE_TYPES)
    seconds = serializers.IntegerField(
        help_text="The audio's whole seconds, rounded up: what the minutes are billed by."
    )


class OpenAITranscriptionSerializer(serializers.Serializer):
    text = serializers.CharField()
    usage = OpenAIUsageSerializer()


class OpenAISegmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    start = serializers.FloatField(help_text="Seconds from the start of the audio.")
    end = serializers.FloatField()
    text = serializers.CharField()


class OpenAIWordSerializer(serializers.Serializer):
    word = serializers.CharField()
    start = serializers.FloatField()
    end = serializers.FloatField()


class OpenAITranscriptionVerboseSerializer(serializers.Serializer):
    task = serializers.ChoiceField(choices=TASKS)
    language = serializers.CharField(
        help_text="ISO-639-1 code: the one asked for, else the one detected (empty when the model does not say)."
    )
    duration = serializers.FloatField(help_text="Seconds.")
    text = serializers.CharField()
    segments = OpenAISegmentSerializer(
        many=True, required=False, help_text="With the `segment` granularity (the default)."
    )
    words = OpenAIWordSerializer(many=True, required=False, help_text="With the `word` granularity.")
    usage = OpenAIUsageSerializer()


class OpenAIDiarizedSegmentSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=SEGMENT_TYPES)
    id = serializers.CharField()
    start = serializers.FloatField()
    end = serializers.FloatField()
    text = serializers.CharField()
    speaker = serializers.CharField(help_text="`A`, `B`, ... in order of first appearance.")


class OpenAITranscriptionDiarizedSerializer(serializers.Serializer):
    task = serializers.ChoiceField(choices=TASKS)
    duration = serializers.FloatField()
    text = serializers.CharField()
    segments = OpenAIDiarizedSegmentSerializer(many=True)
    usage = OpenAIUsageSerializer()


class OpenAIModelSerializer(serializers.Serializer):
    id = serializers.CharField()
    object = serializers.ChoiceField(choices=MODEL_OBJECTS)
    created = serializers.IntegerField(help_text="Unix time.")
    owned_by = serializers.CharField(help_text="The engine that runs it: `openai` or `local` (this server's CPUs).")


class OpenAIModelListSerializer(serializers.Serializer):
    object = serializers.ChoiceField(choices=LIST_OBJECTS)
    data = OpenAIModelSerializer(many=True)  # type: ignore[assignment]  # a field, not Serializer.data: the metaclass moves it


class OpenAIErrorDetailSerializer(serializers.Serializer):
    message = serializers.CharField(help_text="What went wrong, for a person.")
    type = serializers.CharField(
        help_text="`invalid_request_error`, `insufficient_quota`, `requests` (rate limited), `server_error`."
    )
    param = serializers.CharField(allow_null=True, help_text="The request field at fault, if one is.")
    code = serializers.CharField(allow_null=True, help_text="What went wrong, for a program.")
    transcription_id = serializers.UUIDField(
        required=False, help_text="The job the request made, when it made one (find it in /api/transcriptions/)."
    )


class OpenAIErrorSerializer(serializers.Serializer):
    error = OpenAIErrorDetailSerializer()
