from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialApp, SocialToken
from django.contrib import admin

from accounts.models import User

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
