from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from accounts.models import User
from profiles.admin import ProfileAdmin, ProfileInline
from profiles.models import Profile

# Refreshed from Cognito at every sign-in (claims and groups): editing them here would not last,
# and letting staff set them would let staff make themselves superusers.
FROM_COGNITO = (
    "username",
    "email",
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
    list_filter = ("is_staff", "is_superuser", "is_active", "groups", "profile__role", "profile__visibility")
    inlines = [ProfileInline]
    search_fields = ("email", "name", "username", "cognito_sub", "profile__handle", "profile__college")
    fieldsets = (
        (None, {"fields": ("username", "email", "name")}),
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

    def save_formset(self, request, form, formset, change) -> None:
        """The profile inline saves through the profile services (and so syncs to Cognito)."""
        if formset.model is not Profile:
            return super().save_formset(request, form, formset, change)
        changed = []
        for inline_form in formset.forms:
            if inline_form.has_changed() and inline_form.instance.pk:
                ProfileAdmin(Profile, self.admin_site).save_model(
                    request, inline_form.instance, inline_form, True
                )
                changed.append((inline_form.instance, inline_form.changed_data))
        # What the admin's change message reads (formset.save() would have set these).
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], changed, []
        return None
