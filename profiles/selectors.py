"""Profile reads: who may see what, and the directory search."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db.models import Q, QuerySet, Subquery, Value
from django.db.models.functions import Lower, Upper

from profiles.models import HANDLE_RE, Moderation, Profile, folded
from project import roles

HANDLE_PATTERN = re.compile(HANDLE_RE)

DIRECTORY_PAGE_SIZE = 20
# Result counts stop here ("more than 100 people": refine the search).
COUNT_CAP = 100


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
    hidden by a moderator is seen only by its owner and by those who may moderate. The profile of
    an inactive account (`User.is_active` false: disabled, or deleted from the user pool — a user
    marked missing is always made inactive) is seen only by staff and those who may moderate; its
    owner cannot be signed in.
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
    if not profile.user.is_active and not (viewer.is_staff or roles.can_moderate(profile.viewer_role)):
        return None  # an inactive account: 404 for everyone else, like a handle nobody has
    return profile


def moderations_for_profile(*, profile: Profile) -> list[Moderation]:
    """What moderators did to this profile, newest first (none read when it was never moderated)."""
    if profile.moderated_at is None:
        return []
    return list(Moderation.objects.filter(profile=profile)[:50])


def _visible_q(*, viewer, prefix: str = "") -> Q:
    """The profiles a viewer may see (profile_visible_to, as a filter); `prefix` reaches a profile."""
    if viewer.is_authenticated and viewer.is_staff:
        return Q()
    if not viewer.is_authenticated:
        return Q(**{f"{prefix}visibility": Profile.Visibility.PUBLIC})
    return ~Q(**{f"{prefix}visibility": Profile.Visibility.PRIVATE}) | Q(**{f"{prefix}user_id": viewer.pk})


def moderation_log(*, viewer, limit: int = 50) -> list[Moderation]:
    """The latest moderations of profiles the viewer may see, with the profile (the moderators' page).

    A private profile's handle, name and reasons are not shown to moderators who may not see it
    (its /u/<handle>/ page answers them 404).
    """
    visible = Moderation.objects.filter(_visible_q(viewer=viewer, prefix="profile__"))
    return list(visible.select_related("profile")[:limit])


def profiles_hidden(*, viewer, limit: int = 200) -> list[Profile]:
    """Profiles hidden by moderators that the viewer may see, most recently hidden first."""
    hidden = Profile.objects.filter(_visible_q(viewer=viewer), hidden_at__isnull=False)
    return list(hidden.order_by("-hidden_at")[:limit])


def directory_queryset(*, query: str, viewer) -> QuerySet[Profile]:
    """Profiles a signed-in viewer may see, matching name, handle or college (trigram-indexed),
    whatever the accents and capitals: "nina" finds "Niná"."""
    # Hidden by a moderator: out of the directory for everyone (moderators list them on /moderation/).
    # An inactive account's too (disabled, or deleted from the user pool): staff find those in the
    # admin, staff and moderators still reach their pages.
    profiles = Profile.objects.filter(hidden_at__isnull=True, user__is_active=True)
    if not viewer.is_staff:
        profiles = profiles.filter(~Q(visibility=Profile.Visibility.PRIVATE) | Q(user_id=viewer.pk))
    # Printable text only: a NUL or a lone surrogate would make Postgres refuse the query.
    query = " ".join("".join(c for c in query if c.isprintable()).split())[:100]
    query = query.encode("utf-8", "ignore").decode()
    if query:
        # The term is folded by the database too (its unaccent rules, not Python's: "ß", "Ø", "Æ"),
        # a constant the planner folds before it picks the trigram indexes.
        term = folded(Value(query))
        profiles = profiles.alias(handle_key=Upper("handle")).filter(
            Q(name_folded__contains=term) | Q(handle_key__contains=term) | Q(college_folded__contains=term)
        )
    return profiles.order_by(Lower("display_name"), "id").only(
        "display_name", "handle", "college", "pronouns", "visibility", "user_id", "avatar_key"
    )


@dataclass(frozen=True)
class DirectoryPage:
    """One page of results and how many match: exactly, or "more than `total`" past COUNT_CAP."""

    object_list: list[Profile]
    number: int
    has_next: bool
    total: int
    total_exact: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1


def directory_page(*, query: str, viewer, page_number: str | int | None) -> DirectoryPage:
    try:
        number = max(1, min(int(page_number or 1), 10_000))
    except (TypeError, ValueError):
        number = 1
    start = (number - 1) * DIRECTORY_PAGE_SIZE
    # One query: rows past the page tell whether there is a next one and, up to COUNT_CAP, how many
    # match in all (a separate COUNT of a broad term at 100k profiles would cost more than the page).
    wanted = max(DIRECTORY_PAGE_SIZE + 1, COUNT_CAP + 1 - start)
    rows = list(directory_queryset(query=query, viewer=viewer)[start : start + wanted])
    exact = len(rows) < wanted
    total = start + len(rows) if exact else start + len(rows) - 1
    return DirectoryPage(rows[:DIRECTORY_PAGE_SIZE], number, len(rows) > DIRECTORY_PAGE_SIZE, total, exact)
