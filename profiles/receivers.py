"""Profiles' reactions to what the sign-in side announces (connected in ProfilesConfig.ready)."""

from __future__ import annotations

import logging
from typing import Any

from django.db.models import F
from django.utils import timezone

from accounts.signals import AccountDeletionBlocked
from profiles import avatars, images, moderation, services
from profiles.models import Profile
from project import roles

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
    When an operator deletes the user (accounts.operators), the operator's own credentials delete
    it (see _operator_deletes_avatar).
    """
    profile = Profile.objects.filter(user=user).first()
    if profile is None or not profile.avatar_key:
        return
    if getattr(request, "user", None) != user:
        _operator_deletes_avatar(request=request, user=user, profile=profile)
        return
    try:
        avatars.avatar_delete_for_account(request=request, profile=profile)
    except avatars.AvatarStoreFailed as exc:
        raise AccountDeletionBlocked(str(exc)[:1].upper() + str(exc)[1:]) from exc


def _operator_deletes_avatar(*, request: Any, user: Any, profile: Profile) -> None:
    """An operator deletes the user: the picture goes first, with the OPERATOR'S own credentials.

    The app holds no S3 key, and only the moderator IAM role (custom:role moderator or admin, by
    the identity pool's role mapping) may delete another identity's avatar objects: the same path
    as a moderator's "Remove picture" (moderation.avatar_objects_delete). An operator without that
    role (a superuser with no custom:role, a local superuser without an ID token) is refused here
    and the deletion stops before anything is deleted: the account is the only way to find the
    picture's random, unlisted keys, so deleting it anyway would leave the objects behind where no
    one in the app could reach them. The message names the keys and who can do it. Raw uploads
    (uploads/<identityId>/) are left to the bucket's lifecycle rule, which expires them in a day.
    """
    stem = profile.avatar_key
    keys = ", ".join(moderation.avatar_object_keys(stem))
    operator = getattr(request, "user", None)
    if operator is None or not roles.can_moderate(moderation.actor_role(actor=operator)):
        logger.warning(
            "an operator without the moderator role may not delete avatar %s of account %s", stem, user.pk
        )
        raise AccountDeletionBlocked(
            f"their picture (S3 objects {keys}) must be deleted first, and only an operator whose sign-in "
            "carries the moderator role (custom:role moderator or admin, signed in through the sign-in "
            "service) may delete another user's picture. Nothing was deleted: ask such an operator to "
            "delete this user, or a moderator to remove the picture first."
        )
    try:
        moderation.avatar_objects_delete(request=request, stem=stem)
    except moderation.ModerationFailed as exc:
        raise AccountDeletionBlocked(
            f"their picture (S3 objects {keys}) could not be deleted, so nothing was deleted: {exc}"
        ) from exc
    Profile.objects.filter(pk=profile.pk).update(
        avatar_key="", version=F("version") + 1, updated_at=timezone.now()
    )
    profile.avatar_key = ""
    logger.info("operator %s deleted avatar objects %s of account %s", operator.pk, keys, user.pk)


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
