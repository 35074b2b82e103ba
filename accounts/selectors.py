from uuid import UUID

from django.db.models import QuerySet

from accounts.models import ApiKey, User


def api_key_is_live(*, api_key_id: UUID) -> bool:
    """Whether the key still signs its owner in: not revoked, the account not deleted. Read from the
    database, for what outlives a request made with it (a live session)."""
    return ApiKey.objects.filter(pk=api_key_id, revoked_at__isnull=True, user__is_active=True).exists()


def api_key_list(*, user: User) -> QuerySet[ApiKey]:
    """The user's live keys, newest first (revoked ones are gone from every answer but the export)."""
    return ApiKey.objects.filter(user=user, revoked_at__isnull=True).order_by("-created_at")
