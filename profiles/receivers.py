"""Profiles' reactions to what the sign-in side announces (connected in ProfilesConfig.ready)."""

from __future__ import annotations

import logging
from typing import Any

from accounts.signals import AccountDeletionBlocked
from profiles import avatars, images, services
from profiles.models import Profile

logger = logging.getLogger(__name__)


def profile_take_claims(
    sender: Any, *, user: Any, claims: dict[str, Any], access_token: str | None = None, **kwargs: Any
) -> None:
    """A user signed in: create the profile or take in what changed in Cognito.

    With a fresh access token (a sign-in), an edit Cognito did not take yet is pushed again now.
    """
    profile = services.profile_sync_from_claims(user=user, claims=claims)
    if access_token and profile.sync_pending:
        services.profile_push_to_cognito(profile=profile, access_token=access_token)


def profile_before_account_deletion(sender: Any, *, user: Any, request: Any, **kwargs: Any) -> None:
    """A user is deleting their account: their picture goes first, with their own credentials.

    The profile row itself goes with the user's (cascade). Raises AccountDeletionBlocked if the
    picture cannot be deleted now; nothing is deleted at Cognito then, and deleting again retries.
    """
    profile = Profile.objects.filter(user=user).first()
    if profile is None or not profile.avatar_key:
        return
    if getattr(request, "user", None) != user:
        # An operator deletes the user (accounts.operators): the app holds no S3 key and the
        # operator's identity may not delete another identity's objects, so the picture's
        # objects stay behind under their random, unlisted key; the row goes by cascade.
        logger.warning(
            "account %s deleted by an operator: avatar objects %s-*.webp left in S3",
            user.pk,
            profile.avatar_key,
        )
        return
    try:
        avatars.avatar_delete_for_account(request=request, profile=profile)
    except avatars.AvatarStoreFailed as exc:
        raise AccountDeletionBlocked(str(exc)[:1].upper() + str(exc)[1:]) from exc


def profile_data_for_export(sender: Any, *, user: Any, request: Any, **kwargs: Any) -> tuple[str, Any]:
    """The profile section of "download my data", with presigned links to the picture."""
    profile = Profile.objects.filter(user=user).first()
    if profile is None:
        return ("profile", None)
    fields = [
        "display_name",
        "handle",
        "college",
        "role",
        "bio",
        "pronouns",
        "location",
        "website",
        "visibility",
    ]
    data: dict[str, Any] = {name: getattr(profile, name) for name in fields}
    data["created_at"] = profile.created_at.isoformat()
    data["updated_at"] = profile.updated_at.isoformat()
    data["avatar"] = None
    if profile.avatar_key:
        keys = {size: avatars.object_key(profile.avatar_key, size) for size in images.SIZES}
        urls = avatars.avatar_urls(request=request, keys=list(keys.values()))
        data["avatar"] = {f"{size}px": urls.get(key) for size, key in keys.items()}
    return ("profile", data)
