from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from accounts.models import User


@admin.register(User)
class CognitoUserAdmin(UserAdmin):
    list_display = ("email", "name", "is_staff", "is_active", "last_login")
    search_fields = ("email", "name", "username", "cognito_sub")
    readonly_fields = ("cognito_sub", "cognito_username", "last_login", "date_joined")
    fieldsets = (
        (None, {"fields": ("username", "email", "name")}),
        ("Cognito", {"fields": ("cognito_sub", "cognito_username")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
