from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from accounts.models import User
from profiles.admin import ProfileAdmin, ProfileInline
from profiles.models import Profile


@admin.register(User)
class CognitoUserAdmin(UserAdmin):
    list_display = ("email", "name", "is_staff", "is_active", "last_login")
    list_filter = ("is_staff", "is_superuser", "is_active", "groups", "profile__role", "profile__visibility")
    inlines = [ProfileInline]
    search_fields = ("email", "name", "username", "cognito_sub", "profile__handle", "profile__college")
    readonly_fields = ("cognito_sub", "cognito_username", "last_login", "date_joined")
    fieldsets = (
        (None, {"fields": ("username", "email", "name")}),
        ("Cognito", {"fields": ("cognito_sub", "cognito_username")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )

    def save_formset(self, request, form, formset, change) -> None:
        """The profile inline saves through the profile services (and so syncs to Cognito)."""
        if formset.model is not Profile:
            return super().save_formset(request, form, formset, change)
        for inline_form in formset.forms:
            if inline_form.has_changed() and inline_form.instance.pk:
                ProfileAdmin(Profile, self.admin_site).save_model(
                    request, inline_form.instance, inline_form, True
                )
        return None
