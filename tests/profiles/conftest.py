from __future__ import annotations

import itertools

import pytest
from django.contrib.auth import get_user_model

from profiles.forms import ProfileForm
from profiles.models import Profile
from profiles.services import profile_sync_from_claims

_seq = itertools.count(1)


def make_member(
    *, name: str = "Member", visibility: str = Profile.Visibility.MEMBERS, staff: bool = False, **fields
):
    """A local user with a profile, as after a first sign-in (no Cognito tokens)."""
    n = next(_seq)
    user = get_user_model().objects.create_user(
        username=f"member-{n}", email=f"member-{n}@example.com", name=name, is_staff=staff
    )
    profile = profile_sync_from_claims(user=user, claims={"name": name, "email": user.email})
    Profile.objects.filter(pk=profile.pk).update(visibility=visibility, **fields)
    profile.refresh_from_db()
    return user, profile


@pytest.fixture
def member():
    return make_member


@pytest.fixture
def handle_taken_meanwhile(monkeypatch):
    """Someone takes the handle between the form's validation and the save: the race, made certain."""
    original = ProfileForm.is_valid

    def is_valid(form) -> bool:
        valid = original(form)
        handle = form.cleaned_data.get("handle") if valid else None
        if handle and not Profile.objects.filter(handle=handle).exists():
            make_member(name="Fast Racer", handle=handle)
        return valid

    monkeypatch.setattr(ProfileForm, "is_valid", is_valid)


# Sign-in through the local stack's hosted UI (tests/accounts/conftest.py).
from tests.accounts.conftest import (  # noqa: E402, F401
    _fresh_cognito_caches,
    app_client,
    idp,
    new_user,
    sign_in,
)
