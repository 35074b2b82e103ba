import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models

from redaction.audio import AudioMethod
from redaction.transcript import Substitution
from wallet.models import Subject, SubjectType

# Custom vocabulary: at most this many keywords, each of at most this many characters, and a prompt.
MAX_KEYWORDS = 100
MAX_KEYWORD_CHARS = 50
MAX_PROMPT_CHARS = 1000


def wallet_subject(transcription_id) -> Subject:
    """How the wallet names a transcription it holds or charges for."""
    return Subject(SubjectType.TRANSCRIPTION, str(transcription_id))


class RedactionSubstitution(models.TextChoices):
    ENTITY_NAME = Substitution.ENTITY_NAME.value, "[ENTITY_NAME]"
    HASH = Substitution.HASH.value, "#### (one a character)"


class RedactionAudioMethod(models.TextChoices):
    BEEP = AudioMethod.BEEP.value, "1 kHz beep"
    SILENCE = AudioMethod.SILENCE.value, "Silence"


class Transcription(models.Model):
    """One transcription job and its result. It keeps its own copy of the audio's name and
    duration, so its text and cost stay readable after the audio file is deleted."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        PROCESSING = "processing", "Processing"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"

    class Timestamps(models.TextChoices):
        SEGMENT = "segment", "Segment"
        WORD = "word", "Word"

    class Source(models.TextChoices):
        """The way in the job was requested by."""

        API = "api", "API"
        OPENAI = "openai", "OpenAI-compatible API"
        REALTIME = "realtime", "Live session"

    class Task(models.TextChoices):
        """What the text is: the speech in its own language, or in English."""

        TRANSCRIBE = "transcribe", "Transcribe"
        TRANSLATE = "translate", "Translate to English"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="transcriptions")
    audio_file = models.ForeignKey(
        "audio.AudioFile", on_delete=models.SET_NULL, null=True, blank=True, related_name="transcriptions"
    )
    audio_filename = models.CharField(max_length=255)
    audio_duration_seconds = models.DecimalField(max_digits=9, decimal_places=3)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.API)
    task = models.CharField(max_length=16, choices=Task.choices, default=Task.TRANSCRIBE)
    # The language asked for ("" to detect it), what detection found, and how sure it was (0-1;
    # null when asked for, or when the model does not say). A job asked to detect it fails
    # (`language_uncertain`) when detection is less sure than `language_confidence_threshold`.
    language = models.CharField(max_length=16, blank=True)
    detected_language = models.CharField(max_length=16, blank=True)
    language_probability = models.FloatField(null=True, blank=True)
    language_confidence_threshold = models.FloatField(null=True, blank=True)
    timestamps = models.CharField(max_length=8, choices=Timestamps.choices, default=Timestamps.SEGMENT)
    # Custom vocabulary: terms to spell as given, and context, put before the audio (see
    # `transcriptions.engines.vocabulary`).
    keywords = models.JSONField(default=list, blank=True)
    prompt = models.TextField(blank=True)
    speaker_labels = models.BooleanField(default=False)
    speakers_expected = models.PositiveSmallIntegerField(null=True, blank=True)
    # How many speakers the result names; null without speaker labels.
    speaker_count = models.PositiveSmallIntegerField(null=True, blank=True)
    # Personal data taken out of the result before it is stored (see the `redaction` package): which
    # kinds (empty: all), written as `entity_name` or `hash`; `redactions` counts what was found, per kind.
    redact_pii = models.BooleanField(default=False)
    redact_pii_policies = models.JSONField(default=list, blank=True)
    redact_pii_sub = models.CharField(max_length=16, choices=RedactionSubstitution.choices, blank=True)
    redactions = models.JSONField(null=True, blank=True)
    # A copy of the audio with each redacted span beeped or silenced, stored like uploads; its name
    # in the storage, empty when none was asked for or it is deleted. It has a life of its own: it
    # goes with the job, its user, or retention, not with the original audio.
    redact_pii_audio = models.BooleanField(default=False)
    redact_pii_audio_method = models.CharField(max_length=8, choices=RedactionAudioMethod.choices, blank=True)
    redacted_audio = models.CharField(max_length=255, blank=True)
    # Told when the job completes or fails, besides the user's webhook endpoints.
    webhook_url = models.URLField(max_length=2000, blank=True)
    engine = models.CharField(max_length=32, blank=True)
    model = models.CharField(max_length=64, blank=True)
    text = models.TextField(blank=True)
    segments = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True, help_text="Safe to show the user.")
    error_code = models.CharField(max_length=64, blank=True, help_text="Machine code of the failure, as in the API.")
    progress = models.PositiveSmallIntegerField(default=0)
    billable_minutes = models.DecimalField(max_digits=10, decimal_places=2)
    demo_minutes_used = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0.00"))
    charged_minutes = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0.00"))
    amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)
    # The job's status when the first request with `idempotency_key` was answered: a repeat of that
    # request is answered as it was (created, queued, or failed with this job's error).
    answered_as = models.CharField(max_length=16, choices=Status.choices, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # The job's life has no dead end: while it is pending or processing, `deadline_at` says when the
    # reaper steps in (queued too long, or its worker died), and `requeues` how often it already has.
    deadline_at = models.DateTimeField(null=True, blank=True)
    requeues = models.PositiveSmallIntegerField(default=0)
    # The Celery task running it: a redelivery of that task may resume it, any other finds it taken.
    run_id = models.CharField(max_length=64, blank=True)
    # Written by the process running the job while it is alive (see `transcription_run`): a job
    # whose beats stop is orphaned, whatever its deadline says.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # Deleted by its user: text, segments and file name erased, the row kept as the ledger's record
    # of what was held and charged for it.
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        # Lists show a user's transcripts that are not deleted, newest first: `deleted_at` in the
        # index keeps a deep page an index-only walk (see `transcriptions.pagination`).
        indexes = [
            models.Index(fields=["user", "deleted_at", "-created_at"], name="tr_user_kept_created_idx"),
            models.Index(fields=["user", "deleted_at", "status", "-created_at"], name="tr_user_kept_status_idx"),
            models.Index(fields=["status", "deadline_at"], name="tr_status_deadline_idx"),
            models.Index(fields=["status", "heartbeat_at"], name="tr_status_heartbeat_idx"),
            # The operations dashboard counts a month of jobs by these from the index alone.
            models.Index(fields=["created_at", "status", "engine", "error_code"], name="tr_created_status_idx"),
            # Retention finds the redacted copies still stored (`redacted_audio > ''`) from it alone.
            models.Index(fields=["redacted_audio"], name="tr_redacted_audio_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["user", "idempotency_key"], name="tr_user_idempotency_key_unique"),
            models.CheckConstraint(condition=models.Q(progress__lte=100), name="tr_progress_lte_100"),
        ]

    def __str__(self) -> str:
        return f"{self.audio_filename or 'deleted transcript'} ({self.status})"

    @property
    def spoken_language(self) -> str:
        """The language of the speech: the one asked for, else the one detected ("" until known)."""
        return self.language or self.detected_language
