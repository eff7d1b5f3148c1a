"""Roles: a closed list kept in one place, for `accounts/` and `profiles/` alike.

A user's role is the verified ID token's `custom:role` claim (or the pool's attribute, read with
the server's credentials), taken at each sign-in and never from anything the user sends. Only
administrators write the attribute (the app client's WriteAttributes leave it out). A value that
is not in the list — a typo, a role retired since, anything a misconfigured pool lets through —
is no role at all: it grants nothing and is not kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NewType

from django.conf import settings

# The claim (and Cognito attribute) that carries the role.
ROLE_CLAIM = "custom:role"
# The defaults of settings.ROLES and settings.MODERATOR_ROLES; code names them through these.
MEMBER = "member"
MODERATOR = "moderator"
ADMIN = "admin"
DEFAULT_ROLES = (MEMBER, MODERATOR, ADMIN)
DEFAULT_MODERATOR_ROLES = (MODERATOR, ADMIN)

# A value that is in the list (role_from_value and role_from_claims are the ways to get one).
Role = NewType("Role", str)


def roles() -> tuple[Role, ...]:
    """Every role, in the order the admin offers them (settings.ROLES)."""
    return tuple(Role(name) for name in settings.ROLES)


def role_choices() -> list[tuple[str, str]]:
    """Choices for a form field: no role, then each role."""
    return [("", "No role"), *((name, name.capitalize()) for name in roles())]


def role_from_value(value: Any) -> Role | None:
    """`value` if it is a role in the list (exact, case-sensitive, as IAM's rules compare), else None."""
    if isinstance(value, str) and value in settings.ROLES:
        return Role(value)
    return None


def role_from_claims(claims: Mapping[str, Any]) -> Role | None:
    """The role in verified claims; an absent or unknown `custom:role` is no role."""
    return role_from_value(claims.get(ROLE_CLAIM))


def can_moderate(role: str | None) -> bool:
    """Whether a role may moderate others' profiles (settings.MODERATOR_ROLES)."""
    return role_from_value(role) is not None and role in settings.MODERATOR_ROLES


def moderation_rank(role: str | None) -> int:
    """How far a role reaches in moderation: -1 for a role that may not moderate (or none), else
    its place in settings.ROLES (by default moderator 1, admin 2). One may moderate only lower ranks."""
    if not can_moderate(role):
        return -1
    return list(settings.ROLES).index(role)
