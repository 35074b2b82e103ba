from django.conf import settings
from rest_framework import serializers

from redaction.audio import AudioMethod
from redaction.entities import Entity
from redaction.transcript import Substitution
from transcriptions.exports import CONTENT_TYPES
from transcriptions.models import MAX_KEYWORD_CHARS, MAX_KEYWORDS, MAX_PROMPT_CHARS, Transcription

LIST_TEXT_PREVIEW_CHARS = 200


def language_field() -> serializers.RegexField:
    return serializers.RegexField(
        r"^(?:[A-Za-z]{2,3})?$",
        required=False,
        allow_blank=True,
        error_messages={"invalid": "Use an ISO-639-1 language code such as 'en' or 'hi'."},
        help_text="ISO-639-1 code of the spoken language; detected when left out.",
    )


def _check_keywords(keywords: list[str]) -> None:
    """One message a bad term, naming it by its place (1 for the first) and its start."""
    bad = [
        f"Keyword {place} ({keyword[:20]!r}) is {'empty' if not keyword else f'{len(keyword)} characters long'}: "
        f"each is 1 to {MAX_KEYWORD_CHARS} characters."
        for place, keyword in enumerate(keywords, start=1)
        if not 1 <= len(keyword) <= MAX_KEYWORD_CHARS
    ]
    if bad:
        raise serializers.ValidationError(bad)


def keywords_field() -> serializers.ListField:
    return serializers.ListField(
        child=serializers.CharField(allow_blank=True),
        validators=[_check_keywords],
        required=False,
        default=list,
        max_length=MAX_KEYWORDS,
        help_text=f"Custom vocabulary: up to {MAX_KEYWORDS} terms of 1-{MAX_KEYWORD_CHARS} characters (names, "
        "products, jargon) to be spelled as given. They go before the audio with `prompt`, kept first when "
        "Whisper's 224-token window cannot hold both (OpenAI: whisper-1 and the gpt-4o models, not the "
        "diarizing one; offline: as faster-whisper's hotwords).",
    )


def prompt_field(*, help_text: str = "") -> serializers.CharField:
    return serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=MAX_PROMPT_CHARS,
        help_text=help_text
        or f"Context for the speech (up to {MAX_PROMPT_CHARS} characters): a sentence in its style, the topic, "
        "words it uses. With `keywords`, what of it fits Whisper's window after them.",
    )


def task_field() -> serializers.ChoiceField:
    return serializers.ChoiceField(
        choices=Transcription.Task.choices,
        default=Transcription.Task.TRANSCRIBE,
        help_text="`transcribe`: the text in the language spoken; `translate`: the text in English, whatever "
        "the language spoken (OpenAI: whisper-1 is used, without word timings or speaker labels; offline: a "
        "multilingual model). What the engine cannot do is 400 `unsupported_option`.",
    )


def redact_pii_field() -> serializers.BooleanField:
    return serializers.BooleanField(
        required=False,
        default=False,
        help_text="Take personal data out of the transcript before it is stored: its text, segments and words, and "
        "so every download, export and webhook. Identifiers are checked (Aadhaar's Verhoeff digit, Luhn for cards, "
        "PAN, GSTIN, phone numbers as libphonenumber judges them, India first) and found written or spoken "
        '("nine eight four five ...", "नौ आठ चार पाँच ...", "nau aath chaar ...", "rahul at gmail dot com"); '
        "ordinary numbers, amounts and dates stay.",
    )


def _check_policies(policies: list[str]) -> None:
    known = [entity.value for entity in Entity]
    unknown = [name for name in policies if name not in known]
    if unknown:
        raise serializers.ValidationError(
            f"Unknown policy {', '.join(map(repr, unknown))}; the policies are {', '.join(known)}.",
            code="unsupported_value",
        )


def redact_pii_policies_field() -> serializers.ListField:
    return serializers.ListField(
        child=serializers.CharField(),
        validators=[_check_policies],
        required=False,
        allow_empty=False,
        help_text="With `redact_pii`: the kinds to take out (`email_address`, `phone_number`, `aadhaar`, `pan`, "
        "`credit_card`, `upi_id`, `ip_address`, `gstin`); all of them when left out.",
    )


def redact_pii_sub_field() -> serializers.ChoiceField:
    return serializers.ChoiceField(
        choices=[choice.value for choice in Substitution],
        required=False,
        help_text="With `redact_pii`: `entity_name` (the default) writes `[PHONE_NUMBER]`, `[AADHAAR]`, ...; "
        "`hash` writes one `#` per character.",
    )


def redact_pii_audio_field(*, help_text: str = "") -> serializers.BooleanField:
    return serializers.BooleanField(
        required=False,
        default=False,
        help_text=help_text
        or "With `redact_pii`: also make a copy of the audio, as long as it, in which each redacted identifier "
        "(padded by 100 ms) is a 1 kHz beep or silence: `GET /api/transcriptions/{id}/redacted_audio/`. It needs "
        'word timings, so it implies `"timestamps": "word"`.',
    )


def redact_pii_audio_method_field() -> serializers.ChoiceField:
    return serializers.ChoiceField(
        choices=[method.value for method in AudioMethod],
        required=False,
        help_text="With `redact_pii_audio`: `beep` (the default) or `silence`.",
    )


def check_redaction_options(attrs: dict, *, policies: str = "redact_pii_policies") -> None:
    """Each redaction option only with the one it refines (`policies` names the policies' field).
    Raises `ValidationError` naming the field."""
    for name in (policies, "redact_pii_sub", "redact_pii_audio"):
        if attrs.get(name) and not attrs["redact_pii"]:
            raise serializers.ValidationError({name: ['Only with "redact_pii": true.']}, code="unsupported_value")
    if "redact_pii_audio_method" in attrs and not attrs["redact_pii_audio"]:
        raise serializers.ValidationError(
            {"redact_pii_audio_method": ['Only with "redact_pii_audio": true.']}, code="unsupported_value"
        )


class TranscriptionCreateInputSerializer(serializers.Serializer):
    audio_file = serializers.UUIDField(help_text="Id of one of your uploaded audio files.")
    task = task_field()
    language = language_field()
    language_confidence_threshold = serializers.FloatField(
        required=False,
        allow_null=True,
        min_value=0.0,
        max_value=1.0,
        help_text="Without `language`: when the language is detected with a probability under this (0-1), the "
        "job fails with `language_uncertain` and nothing is charged. Offline engine only (OpenAI does not say "
        "how sure it is: 400 `unsupported_option`).",
    )
    keywords = keywords_field()
    prompt = prompt_field()
    timestamps = serializers.ChoiceField(
        choices=Transcription.Timestamps.choices,
        default=Transcription.Timestamps.SEGMENT,
        help_text="`word`: every segment also lists its words with their times (OpenAI: whisper-1 is used).",
    )
    speaker_labels = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Label each segment with its speaker (`A`, `B`, ...; OpenAI: gpt-4o-transcribe-diarize is used). "
        "Not with `timestamps: word`; the offline engine cannot (400 `unsupported_option`).",
    )
    speakers_expected = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=10,
        help_text="With `speaker_labels`: how many speakers you expect. Up to 4 of them are carried across "
        "the 23-minute pieces long audio is sent in, so they keep their letters.",
    )
    webhook_url = serializers.URLField(
        required=False,
        allow_blank=True,
        max_length=2000,
        help_text="Also POST `transcription.completed` or `transcription.failed` here, signed with your default "
        "secret (`GET /api/webhooks/signing_secret/`). A public http(s) URL; https in production.",
    )
    redact_pii = redact_pii_field()
    redact_pii_policies = redact_pii_policies_field()
    redact_pii_sub = redact_pii_sub_field()
    redact_pii_audio = redact_pii_audio_field()
    redact_pii_audio_method = redact_pii_audio_method_field()
    force = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Transcribe again (and pay again) audio that already has a completed transcription with "
        "these options; without it that is 409 `already_transcribed`.",
    )

    def validate_language(self, value: str) -> str:
        return value.lower()

    def validate(self, attrs: dict) -> dict:
        if attrs.get("speakers_expected") is not None and not attrs.get("speaker_labels"):
            raise serializers.ValidationError({"speakers_expected": ['Only with "speaker_labels": true.']})
        if attrs.get("language_confidence_threshold") is not None and attrs.get("language"):
            raise serializers.ValidationError(
                {"language_confidence_threshold": ["Only when the language is to be detected: give no language."]}
            )
        check_redaction_options(attrs)
        if attrs["redact_pii_audio"]:
            attrs["timestamps"] = Transcription.Timestamps.WORD
        return attrs


class TranscriptionDownloadInputSerializer(serializers.Serializer):
    format = serializers.ChoiceField(choices=sorted(CONTENT_TYPES), default="txt")


class TranscriptionWordSerializer(serializers.Serializer):
    word = serializers.CharField()
    start = serializers.FloatField(help_text="Seconds from the start of the audio.")
    end = serializers.FloatField()
    probability = serializers.FloatField(allow_null=True, help_text="0-1; null when the model does not say.")


class TranscriptionSegmentSerializer(serializers.Serializer):
    start = serializers.FloatField(help_text="Seconds from the start of the audio.")
    end = serializers.FloatField()
    text = serializers.CharField()
    speaker = serializers.CharField(required=False, help_text="`A`, `B`, ...: present with `speaker_labels`.")
    words = TranscriptionWordSerializer(many=True, required=False, help_text="Present when `timestamps` is `word`.")


class _TranscriptionSummarySerializer(serializers.Serializer):
    id = serializers.UUIDField()
    audio_file = serializers.UUIDField(source="audio_file_id", allow_null=True, help_text="Null once deleted.")
    audio_filename = serializers.CharField()
    audio_duration_seconds = serializers.DecimalField(max_digits=9, decimal_places=3)
    status = serializers.CharField()
    source = serializers.CharField(  # type: ignore[assignment]  # a field, not Field.source: the metaclass moves it
        help_text="How it was requested: `api` (this API), `openai` (the OpenAI-compatible `/v1` API), "
        "`realtime` (a live session)."
    )
    progress = serializers.IntegerField(help_text="0-100, from the share of the audio done.")
    task = serializers.CharField(help_text="`transcribe`, or `translate`: the text is in English.")
    language = serializers.CharField(
        source="spoken_language",
        help_text="ISO-639-1 code of the speech: the one asked for, else the one detected (empty until the job "
        "has run, or when the model does not say).",
    )
    language_probability = serializers.FloatField(
        allow_null=True,
        help_text="0-1: how sure detection was of `language`; null when you gave the language or the model does "
        "not say (OpenAI).",
    )
    language_confidence_threshold = serializers.FloatField(allow_null=True)
    keywords = serializers.ListField(child=serializers.CharField(), help_text="As asked for.")
    prompt = serializers.CharField(help_text="As asked for.")
    timestamps = serializers.CharField(help_text="`segment` or `word`: what the request asked for.")
    speaker_labels = serializers.BooleanField()
    speakers_expected = serializers.IntegerField(allow_null=True)
    speaker_count = serializers.IntegerField(allow_null=True, help_text="How many speakers it names, with labels.")
    webhook_url = serializers.CharField(help_text="Told when it completes or fails; empty when not asked.")
    redact_pii = serializers.BooleanField()
    redact_pii_policies = serializers.ListField(
        child=serializers.CharField(), help_text="The kinds of personal data taken out; empty: all of them."
    )
    redact_pii_sub = serializers.CharField(help_text="`entity_name` or `hash`; empty without `redact_pii`.")
    redact_pii_audio = serializers.BooleanField()
    redact_pii_audio_method = serializers.CharField(help_text="`beep` or `silence`; empty without `redact_pii_audio`.")
    redacted_audio = serializers.SerializerMethodField(
        help_text="Whether `GET /api/transcriptions/{id}/redacted_audio/` has the redacted copy of the audio."
    )
    redactions = serializers.DictField(
        child=serializers.IntegerField(),
        allow_null=True,
        help_text='How many of each kind were taken out, e.g. `{"phone_number": 2, "aadhaar": 0}`: counts only. '
        "Null without `redact_pii` or before the job completes.",
    )
    engine = serializers.CharField(help_text='"openai", or "local": Whisper on this service\'s own CPUs.')
    model = serializers.CharField()
    error = serializers.CharField(help_text="Why it failed, safe to show.")
    error_code = serializers.CharField()
    billable_minutes = serializers.DecimalField(max_digits=10, decimal_places=2)
    demo_minutes_used = serializers.DecimalField(max_digits=10, decimal_places=2)
    charged_minutes = serializers.DecimalField(max_digits=10, decimal_places=2)
    amount = serializers.DecimalField(
        max_digits=12, decimal_places=2, help_text="The cost; charged only once completed."
    )
    currency = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True, help_text="When it completed or failed.")

    def get_redacted_audio(self, transcription) -> bool:
        return bool(transcription.redacted_audio)

    def get_currency(self, transcription) -> str:
        return settings.CURRENCY


class TranscriptionListOutputSerializer(_TranscriptionSummarySerializer):
    text_preview = serializers.SerializerMethodField()

    def get_text_preview(self, transcription) -> str:
        return transcription.text[:LIST_TEXT_PREVIEW_CHARS]


class TranscriptionOutputSerializer(_TranscriptionSummarySerializer):
    text = serializers.CharField()
    segments = TranscriptionSegmentSerializer(many=True, allow_null=True, help_text="Null when the model gave none.")
