from __future__ import annotations

from django import forms
from django.conf import settings

from profiles import images
from profiles.models import RESERVED_HANDLES, Profile
from profiles.services import EDITABLE_FIELDS, HANDLE_TAKEN


class HandleField(forms.CharField):
    """Handles are compared and stored in lowercase: normalise before the format is checked."""

    def to_python(self, value):
        return super().to_python(value).strip().lower()


class ProfileForm(forms.ModelForm):
    """The user's own profile; the role is not here (only administrators change it)."""

    # The version the editor loaded: a save based on an older one is refused (no lost updates).
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    website = forms.URLField(label="Website", max_length=200, required=False, assume_scheme="https")

    class Meta:
        model = Profile
        fields = EDITABLE_FIELDS
        field_classes = {"handle": HandleField}
        widgets = {"bio": forms.Textarea(attrs={"rows": 6})}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["version"] = self.instance.version
        self.fields["display_name"].strip = True

    def clean_handle(self) -> str:
        handle = self.cleaned_data["handle"]
        if handle in RESERVED_HANDLES:
            raise forms.ValidationError("This handle is reserved. Please choose another.")
        clash = Profile.objects.filter(handle=handle).exclude(pk=self.instance.pk)
        if clash.exists():
            raise forms.ValidationError(HANDLE_TAKEN)
        return handle

    def clean_display_name(self) -> str:
        name = self.cleaned_data["display_name"].strip()
        if not name:
            raise forms.ValidationError("Please enter the name to show.")
        if any(ord(c) < 32 or ord(c) == 127 for c in name):
            raise forms.ValidationError("The name cannot contain control characters.")
        return name

    def clean_website(self) -> str:
        url = self.cleaned_data["website"]
        if url and not url.lower().startswith(("https://", "http://")):
            raise forms.ValidationError("Enter a web address starting with https://")
        return url


class AvatarForm(forms.Form):
    """A picture to become the avatar; decoded and re-encoded here, so `clean` is the whole check."""

    image = forms.FileField(
        label="Picture",
        help_text="JPEG, PNG, WebP or GIF, up to 5 MB. It is cropped to a square.",
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(images.CONTENT_TYPES)}),
    )

    def clean_image(self) -> images.Renditions:
        upload = self.cleaned_data["image"]
        # Checked before reading: a large upload is refused without loading it into memory.
        if upload.size > settings.AVATAR_MAX_BYTES:
            raise forms.ValidationError(
                f"The file is too large: at most {settings.AVATAR_MAX_BYTES // (1024 * 1024)} MB."
            )
        try:
            return images.avatar_renditions(data=upload.read())
        except images.ImageRefused as exc:
            raise forms.ValidationError(str(exc)) from None
