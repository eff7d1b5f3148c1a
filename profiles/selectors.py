"""Profile reads: who may see what, and the directory search."""

from __future__ import annotations

from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet
from django.db.models.functions import Lower

from profiles.models import Profile

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


def profile_get_for_viewer(*, handle: str, viewer) -> Profile | None:
    """The profile at /u/<handle>/, or None when it does not exist or the viewer may not see it."""
    profile = Profile.objects.select_related("user").filter(handle=handle.lower()).first()
    if profile is None or not profile_visible_to(profile=profile, viewer=viewer):
        return None
    return profile


def directory_queryset(*, query: str, viewer) -> QuerySet[Profile]:
    """Profiles a signed-in viewer may see, matching name, handle or college (trigram-indexed)."""
    profiles = Profile.objects.all()
    if not viewer.is_staff:
        profiles = profiles.filter(~Q(visibility=Profile.Visibility.PRIVATE) | Q(user_id=viewer.pk))
    query = " ".join(query.split())[:100]
    if query:
        profiles = profiles.filter(
            Q(display_name__icontains=query) | Q(handle__icontains=query) | Q(college__icontains=query)
        )
    return profiles.order_by(Lower("display_name"), "id").only(
        "display_name", "handle", "college", "pronouns", "visibility", "user_id"
    )


def directory_page(*, query: str, viewer, page_number: str | int | None) -> Page:
    paginator = Paginator(directory_queryset(query=query, viewer=viewer), DIRECTORY_PAGE_SIZE)
    return paginator.get_page(page_number)
