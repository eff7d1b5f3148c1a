"""Profile writes: creation from claims, edits with optimistic locking, sync to Cognito."""

from __future__ import annotations

import logging
import re
import secrets
import unicodedata
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from profiles.models import RESERVED_HANDLES, Profile
from project import roles, text
from project.integrations import cognito

logger = logging.getLogger(__name__)

# Profile field → Cognito attribute, for what lives in both places.
COGNITO_ATTRIBUTES = {"display_name": "name", "college": "custom:college"}
EDITABLE_FIELDS = (
    "display_name",
    "handle",
    "college",
    "bio",
    "pronouns",
    "location",
    "website",
    "visibility",
)
# What the profile admin saves: the user's fields, never the role. The profile's `role` is a copy
# of `custom:role` taken from the verified token at each sign-in; the only writer of custom:role is
# the operator console's "Set role" (accounts/operators.py). A push from this copy would undo a
# demotion made in Cognito since the user's last sign-in.
ADMIN_FIELDS = EDITABLE_FIELDS
# Session flag: this browser's last push to Cognito failed; the next request retries it.
SYNC_PENDING = "profile_sync_pending"


HANDLE_TAKEN = "This handle is taken. Please choose another."


class ProfileChangedMeanwhile(Exception):
    """The profile was saved by someone else since the editor loaded it."""


class HandleTaken(Exception):
    """Another profile took the handle after the form checked it (the unique constraint said so)."""


def handle_from_text(text: str) -> str:
    """A URL-safe handle stem from a name or e-mail (ASCII-folded, lowercase)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    stem = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-_")[:24].strip("-_")
    return stem if len(stem) >= 3 else f"user-{stem}".strip("-")


def handle_unique(*, stem: str) -> str:
    candidate = stem
    while candidate in RESERVED_HANDLES or Profile.objects.filter(handle=candidate).exists():
        candidate = f"{stem[:24]}-{secrets.token_hex(2)}"
    return candidate


def _claim_text(claims: dict[str, Any], name: str, max_length: int) -> str:
    """A single-line claim as the profile keeps it: without the characters the form refuses.

    A user can write any characters into their own attributes with UpdateUserAttributes; the
    sign-in goes on, the characters do not reach the profile (project.text holds the rule).
    """
    return text.without_refused(str(claims.get(name) or "")).strip()[:max_length]


def _claims_fields(claims: dict[str, Any]) -> dict[str, str]:
    return {
        # A name with nothing to see (spaces, fillers) is no name: the profile keeps its own.
        "display_name": text.clean_name(str(claims.get("name") or ""), 100),
        "college": _claim_text(claims, "custom:college", 100),
        # Only a role in the closed list is kept; anything else in the token is no role.
        "role": roles.role_from_claims(claims) or "",
    }


def profile_sync_from_claims(*, user, claims: dict[str, Any]) -> Profile:
    """At each sign-in: create the profile, or take in what changed in Cognito.

    Local edits not yet accepted by Cognito (sync pending) win over the claims: what the user
    typed is never overwritten by the older value Cognito still holds.
    """
    fields = _claims_fields(claims)
    profile = Profile.objects.filter(user=user).first()
    if profile is None:
        # The account's e-mail is the last verified one; the claims' may be anyone's address.
        # Cognito takes any characters in an address too (UpdateUserAttributes, then verified):
        # the name shown to others meets the same rule as a name claim.
        mailbox = text.clean_name(user.email.split("@")[0], 100) or "member"
        stem = handle_from_text(fields["display_name"] or mailbox)
        for _ in range(5):
            try:
                with transaction.atomic():
                    return Profile.objects.create(
                        user=user,
                        display_name=fields["display_name"] or mailbox,
                        college=fields["college"],
                        role=fields["role"],
                        handle=handle_unique(stem=stem),
                    )
            except IntegrityError:  # a concurrent sign-in took the same handle: draw again
                continue
        raise RuntimeError("could not find a free handle")
    changes = {"role": fields["role"]}
    if not profile.sync_pending:
        changes.update(display_name=fields["display_name"] or profile.display_name, college=fields["college"])
    changed = {k: v for k, v in changes.items() if getattr(profile, k) != v}
    if changed:
        Profile.objects.filter(pk=profile.pk).update(
            **changed, version=F("version") + 1, updated_at=timezone.now()
        )
        profile.refresh_from_db()
    return profile


@dataclass(frozen=True)
class ProfileUpdated:
    """What became of a saved edit beyond the local save."""

    profile: Profile
    # Cognito holds the name and college (or there was nothing to push).
    synced: bool
    # The picture could not move to a new key after the profile became less visible (for the user).
    rekey_failed: str = ""


def profile_update(
    *,
    profile: Profile,
    data: dict[str, Any],
    expected_version: int,
    access_token: str | None = None,
    as_admin: bool = False,
    request: HttpRequest | None = None,
) -> ProfileUpdated:
    """The one way an edit is saved: save (optimistic lock), push to Cognito, mark pending, re-key.

    Users edit EDITABLE_FIELDS and push with their own access token; administrators (`as_admin`)
    edit ADMIN_FIELDS and push with the admin API. The role is never saved nor pushed here.
    With a browser `request`, a failed push flags the session for a retry on its next request,
    and a profile that became less visible moves its avatar to a new key (the user's identity
    credentials come from that session). Raises ProfileChangedMeanwhile if someone saved since
    `expected_version`, HandleTaken if another profile took the handle meanwhile.
    """
    try:
        profile, needs_sync, visibility_before = _profile_save(
            profile=profile,
            data=data,
            expected_version=expected_version,
            fields=ADMIN_FIELDS if as_admin else EDITABLE_FIELDS,
        )
    except IntegrityError:
        # Two people took the same free handle at once: both passed the form's check, the
        # unique constraint let one through. The other gets what the form would have said.
        handle = data.get("handle")
        if handle and Profile.objects.filter(handle=handle).exclude(pk=profile.pk).exists():
            raise HandleTaken(HANDLE_TAKEN) from None
        raise
    synced = True
    if needs_sync:
        synced = profile_push_to_cognito(profile=profile, access_token=None if as_admin else access_token)
        if not synced and request is not None:
            request.session[SYNC_PENDING] = True
    rekey_failed = ""
    if (
        request is not None
        and profile.avatar_key
        and visibility_narrowed(before=visibility_before, after=profile.visibility)
    ):
        from profiles import avatars  # avatars -> credentials -> models; no cycle at import

        try:
            avatars.avatar_rekey(request=request, profile=profile)
        except avatars.AvatarStoreFailed as exc:
            rekey_failed = str(exc)
    return ProfileUpdated(profile=profile, synced=synced, rekey_failed=rekey_failed)


@transaction.atomic
def _profile_save(
    *, profile: Profile, data: dict[str, Any], expected_version: int, fields: tuple[str, ...]
) -> tuple[Profile, bool, str]:
    """Save `fields` from `data` if nobody saved meanwhile.

    Returns (profile, needs_cognito_sync, visibility before the save).
    """
    values = {name: data[name] for name in fields if name in data}
    # Compare with the stored row: a bound ModelForm has already written its input on `profile`.
    stored = Profile.objects.select_for_update().get(pk=profile.pk)
    touches_cognito = any(values.get(f, getattr(stored, f)) != getattr(stored, f) for f in COGNITO_ATTRIBUTES)
    if touches_cognito:
        values["sync_pending"] = True
    updated = Profile.objects.filter(pk=profile.pk, version=expected_version).update(
        # .update() skips auto_now: the edit's time is set here, as the version is.
        **values,
        version=F("version") + 1,
        updated_at=timezone.now(),
    )
    if not updated:
        raise ProfileChangedMeanwhile()
    profile.refresh_from_db()
    if "display_name" in values and profile.user.name != profile.display_name:
        type(profile.user).objects.filter(pk=profile.user_id).update(name=profile.display_name)
        profile.user.name = profile.display_name
    return profile, touches_cognito or profile.sync_pending, stored.visibility


def profile_push_to_cognito(*, profile: Profile, access_token: str | None = None) -> bool:
    """Push name and college to Cognito; True when Cognito has them. Failure leaves it pending.

    With the user's access token, UpdateUserAttributes (the client's WriteAttributes apply);
    without one (admin edits, retries from `manage.py sync_profiles`), the admin API. Never
    custom:role: the profile's copy may be stale (a demotion made in Cognito since the user's last
    sign-in), and the operator console's "Set role" is its only writer.
    """
    if not profile.user.cognito_sub:
        # A local break-glass account (createsuperuser): there is nothing in Cognito to update.
        Profile.objects.filter(pk=profile.pk).update(sync_pending=False, sync_error="")
        profile.sync_pending = False
        return True
    attributes = {attr: getattr(profile, field) for field, attr in COGNITO_ATTRIBUTES.items()}
    version = profile.version
    try:
        if access_token:
            cognito.user_pool().update_user_attributes(access_token=access_token, attributes=attributes)
        else:
            cognito.user_pool().admin_update_user_attributes(
                username=profile.user.cognito_username, attributes=attributes
            )
    except cognito.CognitoError as exc:
        logger.warning("profile %s not synced to Cognito: %s", profile.pk, exc)
        Profile.objects.filter(pk=profile.pk).update(sync_pending=True, sync_error=str(exc)[:255])
        profile.sync_pending, profile.sync_error = True, str(exc)[:255]
        return False
    # Only clear the flag if nobody changed the profile while we talked to Cognito.
    Profile.objects.filter(pk=profile.pk, version=version).update(sync_pending=False, sync_error="")
    profile.refresh_from_db()
    return not profile.sync_pending


def profile_get_or_create_for_user(*, user) -> Profile:
    """The user's profile; made from the account itself if the user never signed in via Cognito."""
    try:
        return user.profile  # often already loaded with select_related("profile")
    except Profile.DoesNotExist:
        pass
    claims = {"name": user.name, "email": user.email}
    return profile_sync_from_claims(user=user, claims=claims)


_REACH = {Profile.Visibility.PUBLIC: 2, Profile.Visibility.MEMBERS: 1, Profile.Visibility.PRIVATE: 0}


def visibility_narrowed(*, before: str, after: str) -> bool:
    """Whether fewer people may see the profile now than before."""
    return _REACH.get(after, 0) < _REACH.get(before, 0)
