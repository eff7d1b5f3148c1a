"""The account page's forms: what is checked before anything is sent to Cognito."""

from __future__ import annotations

import re

from django import forms

from project import text

CODE_RE = re.compile(r"[0-9]{6}")
CODE_INPUT = {"inputmode": "numeric", "autocomplete": "one-time-code"}


def _code(value: str) -> str:
    """A 6-digit code, spaces and dashes allowed as typed from an app or an e-mail."""
    code = re.sub(r"[\s-]", "", value or "")
    if not CODE_RE.fullmatch(code):
        raise forms.ValidationError("Enter the 6-digit code.")
    return code


# Plain sentences instead of Django's defaults ("This field is required.").
_REQUIRED = {
    "code": "Enter the 6-digit code.",
    "current_password": "Enter your current password.",
    "new_password1": "Enter a new password.",
    "new_password2": "Enter the new password again.",
    "email": "Enter your new e-mail address.",
    "confirm_email": "Type your e-mail address to confirm.",
}


class AccountForm(forms.Form):
    """An account-page form: the error messages say what to do, in the site's words."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():  # validators' codes pick these (Field.run_validators)
            field.error_messages["required"] = _REQUIRED.get(name, f"Enter the {field.label or name}.")
            if getattr(field, "max_length", None):
                field.error_messages["max_length"] = f"At most {field.max_length} characters, please."
            if isinstance(field, forms.EmailField):
                field.error_messages["invalid"] = "Enter an e-mail address like name@example.com."


class TotpVerifyForm(AccountForm):
    setup = forms.CharField(widget=forms.HiddenInput, max_length=64)
    code = forms.CharField(label="Code from the app", max_length=20, widget=forms.TextInput(attrs=CODE_INPUT))
    device_name = forms.CharField(
        label="Name of this authenticator (optional)", max_length=60, required=False
    )

    def clean_code(self) -> str:
        return _code(self.cleaned_data["code"])

    def clean_device_name(self) -> str:
        return text.clean_name(self.cleaned_data.get("device_name") or "", 60)


class PasswordChangeForm(AccountForm):
    current_password = forms.CharField(
        label="Current password", max_length=256, strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )  # fmt: skip
    new_password1 = forms.CharField(
        label="New password", max_length=256, strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )  # fmt: skip
    new_password2 = forms.CharField(
        label="New password again", max_length=256, strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )  # fmt: skip

    def clean(self):
        data = super().clean()
        first, second = data.get("new_password1"), data.get("new_password2")
        if first and second and first != second:
            self.add_error("new_password2", "The two new passwords differ.")
        if first and first == data.get("current_password"):
            self.add_error("new_password1", "The new password is the same as the current one.")
        return data


class EmailChangeForm(AccountForm):
    email = forms.EmailField(label="New e-mail address", max_length=254)

    def __init__(self, *args, current: str = "", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.current = current

    def clean_email(self) -> str:
        email = self.cleaned_data["email"]
        if email.lower() == self.current.lower():
            raise forms.ValidationError("That is already your address.")
        return email


class EmailCodeForm(AccountForm):
    code = forms.CharField(
        label="Code from the e-mail", max_length=20, widget=forms.TextInput(attrs=CODE_INPUT)
    )

    def clean_code(self) -> str:
        return _code(self.cleaned_data["code"])


class SessionEndForm(forms.Form):
    session = forms.CharField(max_length=64)


class DeleteAccountForm(AccountForm):
    confirm_email = forms.CharField(label="Type your e-mail address to confirm", max_length=254)

    def __init__(self, *args, email: str = "", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.email = email

    def clean_confirm_email(self) -> str:
        typed = self.cleaned_data["confirm_email"].strip()
        if not self.email or typed.lower() != self.email.lower():
            raise forms.ValidationError("This is not your account's e-mail address.")
        return typed
