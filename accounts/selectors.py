from django.db.models import QuerySet

from accounts.models import ApiKey, User


def api_key_list(*, user: User) -> QuerySet[ApiKey]:
    """The user's live keys, newest first (revoked ones are gone from every answer but the export)."""
    return ApiKey.objects.filter(user=user, revoked_at__isnull=True).order_by("-created_at")
