from __future__ import annotations

from django import forms
from django.conf import settings

from profiles import images
from profiles.models import RESERVED_HANDLES, Profile
from profiles.services import EDITABLE_FIELDS, HANDLE_TAKEN
from project import text

SINGLE_LINE_FIELDS = ("display_name", "handle", "college", "role", "pronouns", "location", "website")
MULTI_LINE_FIELDS = ("bio",)


def _refuse_invisible(value: str, *, multi_line: bool) -> None:
    char = text.first_refused(value, multi_line=multi_line)
    if char is not None and text.is_combining(char):
        raise forms.ValidationError(
            "Too many accents or marks on one letter (more than %(max)d): remove some.",
            code="combining_marks",
            params={"max": text.MAX_COMBINING_MARKS},
        )
    if char is not None:
        raise forms.ValidationError(
            "Remove the control or invisible formatting character (U+%(code)04X) from this text.",
            code="control_character",
            params={"code": ord(char)},
        )


def single_line_text(value: str) -> None:
    """No control, format, separator or blank filler characters, no pile of marks: project.text's rule."""
    _refuse_invisible(value, multi_line=False)


def multi_line_text(value: str) -> None:
    """As single_line_text, but line breaks and tabs are text here."""
    _refuse_invisible(value, multi_line=True)


def visible_name(value: str) -> None:
    """A name shows something: not only spaces and blank fillers (U+2001, U+3164...)."""
    if not text.has_visible(value):
        raise forms.ValidationError(
            "Please enter the name to show: this one has nothing to see.", code="blank"
        )


def add_text_validators(form: forms.BaseForm) -> None:
    """The checks above on a profile form's text fields (the user's, which the API uses, and the admin's)."""
    if "display_name" in form.fields:
        form.fields["display_name"].validators.append(visible_name)
    for name, field in form.fields.items():
        if name in SINGLE_LINE_FIELDS:
            field.validators.append(single_line_text)
        elif name in MULTI_LINE_FIELDS:
            field.validators.append(multi_line_text)


def handle_hint(address: str | None) -> str:
    """The handle's hint with the real address of the page it names (the model's has a placeholder)."""
    rule = "3–30 lowercase letters, digits, - or _."
    return f"Your public page's address: {address} — {rule}" if address else rule


class HandleField(forms.CharField):
    """Handles are compared and stored in lowercase: normalise before the format is checked."""

    def to_python(self, value):
        return super().to_python(value).strip().lower()


class ChangedFieldsForm(forms.ModelForm):
    """A profile form that judges only the fields the edit changes.

    A stored value that today's rules refuse (saved before a rule existed, or taken from Cognito
    claims) must not block an edit of another field: an unchanged field keeps its stored value and
    is neither validated nor written. A changed field meets every rule.
    """

    def full_clean(self) -> None:
        super().full_clean()
        if not self.is_bound:
            return
        for name in [n for n in self._errors if n in self._meta.fields and n not in self.changed_data]:
            del self._errors[name]
            self.cleaned_data[name] = self.initial.get(name)


class ProfileForm(ChangedFieldsForm):
    """The user's own profile; the role is not here (only administrators change it)."""

    # The version the editor loaded: a save based on an older one is refused (no lost updates).
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    website = forms.URLField(label="Website", max_length=200, required=False, assume_scheme="https")

    class Meta:
        model = Profile
        fields = EDITABLE_FIELDS
        field_classes = {"handle": HandleField}
        widgets = {"bio": forms.Textarea(attrs={"rows": 6})}

    def __init__(self, *args, address: str | None = None, **kwargs) -> None:
        """`address`: the absolute URL of the user's public page, shown as the handle's hint."""
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["version"] = self.instance.version
        self.fields["display_name"].strip = True
        self.fields["handle"].help_text = handle_hint(address)
        add_text_validators(self)  # the API edits through this form too

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
        help_text="JPEG, PNG, WebP, GIF or HEIC (iPhone), up to 5 MB. It is cropped to a square.",
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
        except images.ImageBusy as exc:  # a good picture at a bad moment: the view answers 503
            raise forms.ValidationError(str(exc), code="busy") from None
        except images.ImageRefused as exc:
            raise forms.ValidationError(str(exc)) from None


class ModerationForm(forms.Form):
    """Why a moderator acts: shown to the profile's owner and kept in the log."""

    reason = forms.CharField(
        label="Reason (shown to the member)",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        validators=[multi_line_text],
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not text.has_visible(reason):
            raise forms.ValidationError("Please say why: the member will read it.")
        return reason
