from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.forms.models import BaseInlineFormSet
from django.urls import reverse

from profiles import services
from profiles.forms import ChangedFieldsForm, HandleField, add_text_validators, handle_hint
from profiles.models import RESERVED_HANDLES, Moderation, Profile


class ProfileAdminForm(ChangedFieldsForm):
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
        # The model's hint names a placeholder ("/u/<handle>/") that the admin shows unescaped as "/u//".
        address = reverse("profiles:public", args=[self.instance.handle]) if self.instance.handle else None
        if "handle" in self.fields:  # read-only for staff on a superuser's profile: no form field
            self.fields["handle"].help_text = handle_hint(address)
        add_text_validators(self)

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
    # The role is shown, never edited here: it is the copy of custom:role from the user's last
    # sign-in, and only the operator console's "Set role" writes custom:role (services.ADMIN_FIELDS).
    readonly_fields = (
        "user",
        "cognito_sub",
        "role",
        "sync_pending",
        "sync_error",
        "created_at",
        "updated_at",
    )
    list_select_related = ("user",)

    @admin.display(description="Cognito sub")
    def cognito_sub(self, profile: Profile) -> str:
        return profile.user.cognito_sub or "—"

    def has_change_permission(self, request, obj=None) -> bool:
        """Staff may not change a superuser's profile (as the user admin keeps their account)."""
        if obj is not None and obj.user.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

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
        except services.HandleTaken as exc:
            messages.error(request, f"Not saved: {exc}")
            return
        if not updated.synced:
            messages.warning(request, "Saved here; Cognito is unreachable, the change will be retried.")


@admin.register(Moderation)
class ModerationAdmin(admin.ModelAdmin):
    """The moderation log, read-only: moderators act on the site (/moderation/), not here."""

    list_display = ("created_at", "actor_email", "actor_role", "action", "profile", "reason")
    list_filter = ("action", "actor_role")
    search_fields = ("actor_email", "profile__handle", "profile__display_name", "reason")
    list_select_related = ("profile",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ProfileInlineFormSet(BaseInlineFormSet):
    """Saves the profile through the profile services (and so syncs it to Cognito)."""

    admin_site: admin.AdminSite
    request = None

    def save(self, commit: bool = True) -> list:
        changed = []
        profile_admin = ProfileAdmin(Profile, self.admin_site)
        for inline_form in self.forms:
            if inline_form.has_changed() and inline_form.instance.pk:
                profile_admin.save_model(self.request, inline_form.instance, inline_form, True)
                changed.append((inline_form.instance, inline_form.changed_data))
        # What the admin's change message reads (BaseModelFormSet.save() would have set these).
        self.new_objects, self.changed_objects, self.deleted_objects = [], changed, []
        return [instance for instance, _ in changed]


class ProfileInline(admin.StackedInline):
    model = Profile
    form = ProfileAdminForm
    formset = ProfileInlineFormSet
    can_delete = False
    extra = 0
    readonly_fields = ("role", "sync_pending", "sync_error")

    def has_change_permission(self, request, obj=None) -> bool:
        """`obj` is the user: staff may not change a superuser's profile."""
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        # The services need who is saving (for the admin's messages).
        return type(formset.__name__, (formset,), {"request": request, "admin_site": self.admin_site})


# The user admin (accounts/admin.py) knows nothing of profiles: the profile joins it from here.
_user_admin = admin.site.get_model_admin(get_user_model())
_user_admin.inlines = [*_user_admin.inlines, ProfileInline]
_user_admin.list_filter = (*_user_admin.list_filter, "profile__role", "profile__visibility")
_user_admin.search_fields = (*_user_admin.search_fields, "profile__handle", "profile__college")
