from __future__ import annotations

from django import forms
from django.contrib import admin, messages

from profiles import services
from profiles.forms import HandleField
from profiles.models import RESERVED_HANDLES, Profile


class ProfileAdminForm(forms.ModelForm):
    # The version the admin loaded: a save over someone else's newer edit is refused.
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    website = forms.URLField(max_length=200, required=False, assume_scheme="https")

    class Meta:
        model = Profile
        fields = services.ADMIN_FIELDS
        field_classes = {"handle": HandleField}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["version"] = self.instance.version

    def clean_handle(self) -> str:
        handle = self.cleaned_data["handle"]
        if handle in RESERVED_HANDLES:
            raise forms.ValidationError("This handle is reserved.")
        return handle

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk and cleaned.get("version") != Profile.objects.get(pk=self.instance.pk).version:
            raise forms.ValidationError(
                "This profile was changed meanwhile (by its owner or another admin). "
                "Reload to see the changes."
            )
        return cleaned


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    form = ProfileAdminForm
    list_display = ("display_name", "handle", "college", "role", "visibility", "sync_pending", "updated_at")
    list_filter = ("role", "visibility", "sync_pending", "user__is_staff", "user__groups")
    search_fields = ("display_name", "handle", "college", "user__email")
    readonly_fields = ("user", "cognito_sub", "sync_pending", "sync_error", "created_at", "updated_at")
    list_select_related = ("user",)

    @admin.display(description="Cognito sub")
    def cognito_sub(self, profile: Profile) -> str:
        return profile.user.cognito_sub or "—"

    def has_add_permission(self, request) -> bool:
        return False  # profiles are made at first sign-in

    def save_model(self, request, obj, form, change) -> None:
        """Through the same services as the pages, so the change reaches Cognito too."""
        current = Profile.objects.get(pk=obj.pk)
        try:
            updated = services.profile_update(
                profile=current,
                data=form.cleaned_data,
                expected_version=form.cleaned_data["version"],
                as_admin=True,
            )
        except services.ProfileChangedMeanwhile:
            messages.error(request, "Not saved: the profile was changed meanwhile. Reload and try again.")
            return
        if not updated.synced:
            messages.warning(request, "Saved here; Cognito is unreachable, the change will be retried.")


class ProfileInline(admin.StackedInline):
    model = Profile
    form = ProfileAdminForm
    can_delete = False
    extra = 0
    readonly_fields = ("sync_pending", "sync_error")
