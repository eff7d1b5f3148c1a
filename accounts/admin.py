from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from accounts.models import User

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
    list_display = ("email", "name", "is_staff", "is_active", "last_login")
    list_filter = ("is_staff", "is_superuser", "is_active", "groups")
    # Other apps add their inlines, filters and search fields (profiles/admin.py).
    search_fields = ("email", "name", "username", "cognito_sub")
    fieldsets = (
        (None, {"fields": ("username", "email", "pending_email", "name")}),
        ("Cognito", {"fields": ("cognito_sub", "cognito_username")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )

    def get_readonly_fields(self, request, obj=None):
        readonly = [*FROM_COGNITO, "last_login", "date_joined"]
        if not request.user.is_superuser:
            readonly.append("user_permissions")  # only superusers grant permissions
        return readonly

    def has_change_permission(self, request, obj=None) -> bool:
        """Staff may not change a superuser's account (nor deactivate it)."""
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)
