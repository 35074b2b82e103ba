from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialApp, SocialToken
from django.contrib import admin
from django.http import HttpRequest

from accounts.models import ApiKey, User
from accounts.services import api_key_revoke
from config.admin import confirmed_action

# Sign-in apps come from the environment (`accounts.adapters.SocialAccountAdapter.list_apps`) and
# provider tokens are never stored: rows edited on these pages would do nothing. A user's one email
# address is the user's own `email`: allauth's copy of it is no page of its own.
admin.site.unregister(SocialApp)
admin.site.unregister(SocialToken)
admin.site.unregister(EmailAddress)

admin.site.site_header = "Transcription service"
admin.site.site_title = "Transcription admin"
admin.site.index_title = "Operations"
admin.site.site_url = "/api/docs/"  # "View site": the service's face is its API


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    list_display = ["email", "name", "provider", "is_active", "is_staff", "created_at"]
    list_filter = ["provider", "is_active", "is_staff", "created_at"]
    search_fields = ["email", "name", "provider_uid"]
    readonly_fields = ["id", "provider", "provider_uid", "created_at", "last_login"]
    fields = [
        "id",
        "email",
        "name",
        "provider",
        "provider_uid",
        "is_active",
        "is_staff",
        "is_superuser",
        "groups",
        "user_permissions",
        "created_at",
        "last_login",
    ]
    filter_horizontal = ["groups", "user_permissions"]
    ordering = ["-created_at"]

    def has_add_permission(self, request) -> bool:
        return False  # users come from sign-in (or `createsuperuser`), which also creates the wallet


@confirmed_action(
    description="Revoke the selected API keys",
    permissions=["change"],
    title="Revoke",
    explanation="Every request with these keys is refused from now on (401 invalid_api_key); it cannot be undone. "
    "Their owners can make new keys.",
)
def revoke(request: HttpRequest, api_key: ApiKey, data: dict) -> str:
    return "revoked: refused from now on." if api_key_revoke(api_key=api_key) else "was already revoked."


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys are made by their owners (the API, `issue_api_key`), who alone see the secret; here they
    are looked at and revoked. The hash is never shown: it identifies the key in the database."""

    list_display = ["prefix", "name", "user", "created_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter), "created_at", "last_used_at"]
    search_fields = ["^prefix", "name", "user__email"]
    list_select_related = ["user"]
    fields = ["id", "prefix", "name", "user", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["id", "prefix", "name", "user", "created_at", "last_used_at", "revoked_at"]
    ordering = ["-created_at"]
    actions = [revoke]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # revoked, a key stays as the record of what could sign in and when
