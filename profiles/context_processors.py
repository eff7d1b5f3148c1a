"""Template context for every page: the signed-in user's own avatar in the header."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from profiles import avatars


def header_avatar(request: HttpRequest) -> dict[str, Any]:
    """`header_avatar_url`: evaluated only when a template shows it (templates call callables)."""

    def url() -> str | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not hasattr(request, "session"):
            return None
        stem = avatars.own_avatar_stem(request=request)
        if not stem:
            return None
        key = avatars.object_key(stem, avatars.SMALL)
        return avatars.avatar_urls(request=request, keys=[key]).get(key)

    return {"header_avatar_url": url}
