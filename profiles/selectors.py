"""Profile reads: who may see what, and the directory search."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db.models import Q, QuerySet, Subquery
from django.db.models.functions import Lower

from profiles.models import HANDLE_RE, Moderation, Profile
from project import roles

HANDLE_PATTERN = re.compile(HANDLE_RE)

DIRECTORY_PAGE_SIZE = 20


def profile_visible_to(*, profile: Profile, viewer) -> bool:
    """Public: anyone; members: signed-in users; private: the owner and staff."""
    if profile.visibility == Profile.Visibility.PUBLIC:
        return True
    if not viewer.is_authenticated:
        return False
    if profile.visibility == Profile.Visibility.MEMBERS:
        return True
    return viewer.pk == profile.user_id or viewer.is_staff


def profile_get_current(*, pk: int) -> Profile:
    """The profile as stored now."""
    return Profile.objects.get(pk=pk)


def profile_get_for_viewer(*, handle: str, viewer) -> Profile | None:
    """The profile at /u/<handle>/, or None when it does not exist or the viewer may not see it.

    The profile comes with `viewer_role` (the viewer's own role, in the same query): a profile
    hidden by a moderator is seen only by its owner and by those who may moderate.
    """
    if not HANDLE_PATTERN.fullmatch(handle.lower()):
        return None  # not a handle at all (and nothing odd, such as a NUL, reaches the database)
    profiles = Profile.objects.select_related("user").filter(handle=handle.lower())
    if viewer.is_authenticated:
        own_role = Profile.objects.filter(user_id=viewer.pk).values("role")[:1]
        profiles = profiles.annotate(viewer_role=Subquery(own_role))
    profile = profiles.first()
    if profile is None or not profile_visible_to(profile=profile, viewer=viewer):
        return None
    profile.viewer_role = roles.role_from_value(getattr(profile, "viewer_role", None))
    if profile.hidden_at and viewer.pk != profile.user_id and not roles.can_moderate(profile.viewer_role):
        return None
    return profile


def moderations_for_profile(*, profile: Profile) -> list[Moderation]:
    """What moderators did to this profile, newest first (none read when it was never moderated)."""
    if profile.moderated_at is None:
        return []
    return list(Moderation.objects.filter(profile=profile)[:50])


def moderation_log(*, limit: int = 50) -> list[Moderation]:
    """The latest moderations of any profile, with the profile (for the moderators' page)."""
    return list(Moderation.objects.select_related("profile")[:limit])


def profiles_hidden(*, limit: int = 200) -> list[Profile]:
    """Profiles hidden by moderators, most recently hidden first."""
    return list(Profile.objects.filter(hidden_at__isnull=False).order_by("-hidden_at")[:limit])


def directory_queryset(*, query: str, viewer) -> QuerySet[Profile]:
    """Profiles a signed-in viewer may see, matching name, handle or college (trigram-indexed)."""
    # Hidden by a moderator: out of the directory for everyone (moderators list them on /moderation/).
    profiles = Profile.objects.filter(hidden_at__isnull=True)
    if not viewer.is_staff:
        profiles = profiles.filter(~Q(visibility=Profile.Visibility.PRIVATE) | Q(user_id=viewer.pk))
    # Printable text only: a NUL or a lone surrogate would make Postgres refuse the query.
    query = " ".join("".join(c for c in query if c.isprintable()).split())[:100]
    query = query.encode("utf-8", "ignore").decode()
    if query:
        profiles = profiles.filter(
            Q(display_name__icontains=query) | Q(handle__icontains=query) | Q(college__icontains=query)
        )
    return profiles.order_by(Lower("display_name"), "id").only(
        "display_name", "handle", "college", "pronouns", "visibility", "user_id", "avatar_key"
    )


@dataclass(frozen=True)
class DirectoryPage:
    """One page of results; no total count (counting 100k rows costs more than the page)."""

    object_list: list[Profile]
    number: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1


def directory_page(*, query: str, viewer, page_number: str | int | None) -> DirectoryPage:
    try:
        number = max(1, min(int(page_number or 1), 10_000))
    except (TypeError, ValueError):
        number = 1
    start = (number - 1) * DIRECTORY_PAGE_SIZE
    # One query: a row past the page tells whether there is a next one.
    rows = list(directory_queryset(query=query, viewer=viewer)[start : start + DIRECTORY_PAGE_SIZE + 1])
    return DirectoryPage(rows[:DIRECTORY_PAGE_SIZE], number, len(rows) > DIRECTORY_PAGE_SIZE)
