import uuid

from django.conf import settings
from django.db import models


class AudioFile(models.Model):
    """An uploaded recording, stored under `audio_files/{user_id}/{uuid}.{ext}`."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="audio_files")
    file = models.FileField(max_length=255)
    original_filename = models.CharField(max_length=255, help_text="Sanitised; for display only.")
    format = models.CharField(max_length=16)
    size_bytes = models.PositiveBigIntegerField()
    duration_seconds = models.DecimalField(max_digits=9, decimal_places=3)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="audio_user_created_idx"),
            models.Index(fields=["created_at"], name="audio_created_idx"),  # the retention purge
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(duration_seconds__gt=0), name="audio_duration_gt_0"),
        ]

    def __str__(self) -> str:
        return self.original_filename


class PendingFileDeletion(models.Model):
    """A stored file whose row is gone and which is still to be deleted from its storage. Written
    with the row's deletion, removed once the file is gone: a failed delete (the object store
    briefly away) is tried again by beat, never left behind unnoticed."""

    name = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=255, blank=True)

    def __str__(self) -> str:
        return self.name


class DirectUpload(models.Model):
    """A large file a client sends straight to the object store, by a signed URL, before it is
    checked and becomes an `AudioFile` with the same id and key."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="direct_uploads")
    key = models.CharField(max_length=255, unique=True)
    original_filename = models.CharField(max_length=255)
    size_bytes = models.PositiveBigIntegerField(
        help_text="What the client said it would send; the URL takes no other size."
    )
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["expires_at"], name="direct_upload_expiry_idx")]

    def __str__(self) -> str:
        return self.original_filename
