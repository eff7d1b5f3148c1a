"""Avatar display helpers for templates."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def initials(name: str) -> str:
    """Up to two initials for the placeholder shown when there is no avatar."""
    words = [w for w in str(name or "").replace("@", " ").split() if w[:1].isalnum()]
    if not words:
        return "?"
    letters = words[0][0] + (words[-1][0] if len(words) > 1 else "")
    return letters.upper()


@register.inclusion_tag("profiles/_avatar.html")
def avatar(url: str | None, name: str, size: int = 128, testid: str = "") -> dict:
    """An <img> of the presigned URL, or an initials placeholder."""
    return {"url": url, "name": name, "size": size, "testid": testid}
