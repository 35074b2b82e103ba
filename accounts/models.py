import uuid
from typing import ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models, transaction

from accounts.signals import user_created


class Provider(models.TextChoices):
    GOOGLE = "google", "Google"
    FACEBOOK = "facebook", "Facebook"


class UserManager(BaseUserManager["User"]):
    """Every way of making a user (the services, `createsuperuser`, the admin's shell) comes here,
    so every user is announced by `user_created` in the transaction that made it."""

    @transaction.atomic
    def create_user(self, email: str, password: str | None = None, **fields) -> "User":
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)  # None gives an unusable password
        user.full_clean(exclude=["password", "provider_uid"])
        user.save(using=self._db)
        user_created.send(sender=self.model, user=user)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields):
        return self.create_user(email, password, is_staff=True, is_superuser=True, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """Signs in through Google or Facebook; only staff created from the shell have a password."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(unique=True)
    name = models.CharField(max_length=255, blank=True)
    provider = models.CharField(max_length=16, choices=Provider.choices, blank=True)
    # NULL for staff without a provider: NULLs never collide in the unique constraint below.
    provider_uid = models.CharField(max_length=255, null=True, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "provider_uid"], name="user_provider_uid_unique"),
        ]

    def __str__(self) -> str:
        return self.email


class EndedSession(models.Model):
    """A sign-in ended by logout. Every JWT pair carries its session's id (`sid`), kept through
    refresh rotation; access tokens of an ended session are refused until they would have expired."""

    session_id = models.UUIDField(primary_key=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="ended_sessions")
    ended_at = models.DateTimeField(auto_now_add=True)
    # When the last access token of the session expires: the row is needed until then.
    expires_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["user", "expires_at"], name="ended_session_user_expiry_idx")]

    def __str__(self) -> str:
        return f"{self.session_id} of {self.user_id}"


# What every API key starts with, as OpenAI's do: `Authorization: Bearer sk-…` is an API key, any
# other bearer token a JWT.
API_KEY_PREFIX = "sk-"


class ApiKey(models.Model):
    """A secret a user's servers and tools sign in with (`Authorization: Bearer sk-…`). The key itself
    is shown once, when it is made, and never stored: only its SHA-256 (see `accounts.services`)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    # The key's first characters (`sk-` and 8 more), in clear, so that a person can tell keys apart.
    prefix = models.CharField(max_length=16)
    key_hash = models.CharField(max_length=64, unique=True)  # hex SHA-256 of the whole key
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)  # to the minute: written at most once a minute
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API key"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "revoked_at", "-created_at"], name="api_key_user_live_idx")]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name})" if self.name else f"{self.prefix}…"
