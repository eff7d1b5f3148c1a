"""Moderation: a moderator removes another member's picture or hides their profile (and shows it again).

Authorised twice. The app checks the moderator's role (project/roles.py: the `custom:role` claim of
their verified token at the latest sign-in, kept on their profile) and that the target ranks below
them. The picture is then deleted with the MODERATOR'S OWN identity-pool credentials: the identity
pool's role mapping gives a moderator the moderator IAM role, whose policy may delete any avatar
object; a member's role may not, so S3 itself refuses a member's request even if the app's check
were wrong. Every action is recorded (Moderation) and shown to the affected user on /me/; a removed
picture also leaves the header of each of the member's sessions at once (accounts.signals).
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from accounts.signals import user_session_values_stale
from profiles import credentials as creds
from profiles import images
from profiles.avatars import SESSION_OWN, object_key
from profiles.models import Moderation, Profile
from project import roles
from project.integrations import s3

logger = logging.getLogger(__name__)


class ModerationRefused(Exception):
    """The actor may not moderate this profile (the app's check); the message is for them."""


class ModerationFailed(Exception):
    """Nothing changed (storage refused or failed, or nothing to do); the message is for the actor."""


def actor_role(*, actor) -> str | None:
    """The actor's role in the list, from their profile (set from the verified token at each sign-in)."""
    if not actor.is_authenticated:
        return None
    role = Profile.objects.filter(user=actor).values_list("role", flat=True).first()
    return roles.role_from_value(role)


def moderation_allowed(*, actor, role: str | None, target: Profile) -> bool:
    """Whether an actor with this role may moderate the target.

    Only moderator roles; never one's own profile, a staff member's or a superuser's (operators
    are managed in the admin), nor someone of the same or a higher role (a moderator cannot
    moderate another moderator or an admin). Django's is_superuser grants nothing here: moderation
    is the role's, and a superuser without it has no moderator credentials for S3 either.
    """
    if not actor.is_authenticated or roles.moderation_rank(role) < 0:
        return False
    owner = target.user
    if owner.pk == actor.pk or owner.is_superuser or owner.is_staff:
        return False
    return roles.moderation_rank(role) > roles.moderation_rank(target.role)


def _authorize(*, actor, target: Profile) -> str:
    role = actor_role(actor=actor)
    if role is None or not moderation_allowed(actor=actor, role=role, target=target):
        raise ModerationRefused("You may not moderate this profile.")
    return role


def _record(
    *, actor, role: str, target: Profile, action: str, reason: str, avatar_key: str = ""
) -> Moderation:
    return Moderation.objects.create(
        profile=target,
        actor=actor,
        actor_email=actor.email,
        actor_role=role,
        action=action,
        reason=reason,
        avatar_key=avatar_key,
    )


def avatar_object_keys(stem: str) -> list[str]:
    """The S3 keys of a picture (one per size)."""
    return [object_key(stem, size) for size in images.SIZES]


def avatar_objects_delete(*, request: HttpRequest, stem: str) -> None:
    """Delete another member's picture objects with the acting user's OWN identity credentials.

    Only credentials of the moderator IAM role (custom:role moderator or admin, by the identity
    pool's role mapping) may; S3 refuses anyone else's. Deleting what is gone already is no error.
    Raises ModerationFailed (with a sentence for the actor) when nothing could be done.
    """
    try:
        credentials = creds.user_credentials(request=request)
    except creds.CredentialsUnavailable as exc:
        raise ModerationFailed(str(exc)) from exc
    try:
        for key in avatar_object_keys(stem):
            s3.bucket().delete(credentials, key=key)
    except s3.S3Error as exc:
        logger.warning("user %s could not delete avatar %s: %s", request.user.pk, stem, exc)
        if exc.code == "AccessDenied":
            raise ModerationFailed(
                "The storage service refused: your sign-in does not carry the moderator role. "
                "If you became a moderator recently, sign out and in again."
            ) from exc
        raise ModerationFailed("The storage service failed; the picture is unchanged. Try again.") from exc


def moderation_remove_avatar(*, request: HttpRequest, target: Profile, reason: str) -> Moderation:
    """Delete the target's picture with the moderator's own credentials, then forget it and record.

    The objects are deleted first, inside the transaction that holds the profile's row: if S3
    refuses (the credentials do not carry the moderator role), nothing changes.
    """
    actor = request.user
    role = _authorize(actor=actor, target=target)
    with transaction.atomic():
        stem = Profile.objects.select_for_update().values_list("avatar_key", flat=True).get(pk=target.pk)
        if not stem:
            raise ModerationFailed("This profile has no picture (any more).")
        avatar_objects_delete(request=request, stem=stem)
        now = timezone.now()
        Profile.objects.filter(pk=target.pk).update(
            avatar_key="", version=F("version") + 1, updated_at=now, moderated_at=now
        )
        record = _record(
            actor=actor, role=role, target=target, action=Moderation.Action.REMOVE_AVATAR, reason=reason,
            avatar_key=stem,
        )  # fmt: skip
        # The member's header keeps its own picture in each of their sessions: drop it from all of
        # them once this is committed, so their next page (any browser) shows no picture.
        owner = target.user
        transaction.on_commit(
            lambda: user_session_values_stale.send(sender=Profile, user=owner, names=[SESSION_OWN])
        )
    target.refresh_from_db()
    return record


def moderation_hide(*, actor, target: Profile, reason: str) -> Moderation:
    """Hide the profile from the directory and its public page; its owner sees why."""
    role = _authorize(actor=actor, target=target)
    with transaction.atomic():
        now = timezone.now()
        updated = Profile.objects.filter(pk=target.pk, hidden_at__isnull=True).update(
            hidden_at=now, hidden_reason=reason, moderated_at=now
        )
        if not updated:
            raise ModerationFailed("This profile is hidden already.")
        record = _record(actor=actor, role=role, target=target, action=Moderation.Action.HIDE, reason=reason)
    target.refresh_from_db()
    return record


def _check_reversal(*, role: str, target: Profile, reverses: str) -> None:
    """An action is reversed only by someone of at least the rank of whoever took it last.

    A moderator cannot show again a profile an administrator hid. The rank is the one recorded
    with the action (`actor_role`); a role no longer among the moderator roles ranks lowest.
    Called with the target's row locked, so a concurrent hide is seen.
    """
    taken_by = (
        Moderation.objects.filter(profile=target, action=reverses)
        .order_by("-created_at", "-id")
        .values_list("actor_role", flat=True)
        .first()
    )
    if taken_by is not None and roles.moderation_rank(taken_by) > roles.moderation_rank(role):
        raise ModerationFailed(
            f"This was done by someone with the role “{taken_by}”: only someone of that rank or "
            "higher may undo it. Nothing changed."
        )


def moderation_unhide(*, actor, target: Profile, reason: str) -> Moderation:
    """Show a hidden profile again (not one hidden by a higher rank)."""
    role = _authorize(actor=actor, target=target)
    with transaction.atomic():
        Profile.objects.select_for_update().filter(pk=target.pk).values_list("pk", flat=True).first()
        _check_reversal(role=role, target=target, reverses=Moderation.Action.HIDE)
        now = timezone.now()
        updated = Profile.objects.filter(pk=target.pk, hidden_at__isnull=False).update(
            hidden_at=None, hidden_reason="", moderated_at=now
        )
        if not updated:
            raise ModerationFailed("This profile is not hidden.")
        record = _record(
            actor=actor, role=role, target=target, action=Moderation.Action.UNHIDE, reason=reason
        )
    target.refresh_from_db()
    return record
