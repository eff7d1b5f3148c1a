from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from accounts.models import User
from project import text

# Refreshed from Cognito at every sign-in (claims and groups): editing them here would not last,
# and letting staff set them would let staff make themselves superusers.
FROM_COGNITO = (
    "username",
    "email",
    "pending_email",
    "name",
    "cognito_sub",
    "cognito_username",
    "is_staff",
    "is_superuser",
    "groups",
)


@admin.register(User)
class CognitoUserAdmin(UserAdmin):
    list_display = ("shown_email", "name", "is_staff", "is_active", "last_login")
    list_filter = ("is_staff", "is_superuser", "is_active", "groups")
    # Other apps add their inlines, filters and search fields (profiles/admin.py).
    search_fields = ("email", "name", "username", "cognito_sub")
    fieldsets = (
        (None, {"fields": ("username", "shown_email", "shown_pending_email", "name")}),
        ("Cognito", {"fields": ("cognito_sub", "cognito_username")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )

    def get_readonly_fields(self, request, obj=None):
        readonly = [*FROM_COGNITO, "shown_email", "shown_pending_email", "last_login", "date_joined"]
        if not request.user.is_superuser:
            readonly.append("user_permissions")  # only superusers grant permissions
        return readonly

    # An address is kept as Cognito verified it, whatever its characters (it is where mail goes);
    # staff see the ones project.text refuses written out, never acting on the page (a bidi override).
    @admin.display(description="email address", ordering="email")
    def shown_email(self, obj: User) -> str:
        return text.shown(obj.email)

    @admin.display(description="pending email")
    def shown_pending_email(self, obj: User) -> str:
        return text.shown(obj.pending_email)

    def has_change_permission(self, request, obj=None) -> bool:
        """Staff may not change a superuser's account (nor deactivate it)."""
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)
