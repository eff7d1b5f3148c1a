"""Reconciling local users with the user pool (ListUsers), in bounded memory.

A pass pages through ListUsers (≤ 60 users a page, following PaginationToken until there is
none; a page may be empty while a token is still given). Per page it runs two queries: stamp the
local users whose sub is on the page as seen (`pool_seen_at` = the pass's start) and read which
of the page's subs are known here; the others are pool users who never signed in to the app.
Only after the last page — a complete pass — are local users not stamped marked as missing from
the pool (deleted there), deactivated and signed out; a pass cut short by Cognito marks nothing.
Memory holds one page, the page's known subs and at most `keep_unseen` never-seen users
(the rest are only counted, or streamed to `on_unseen`), whatever the pool's size.
Running it again changes nothing that has not changed in the pool (idempotent).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from accounts import operators, services
from accounts.models import OperatorAction
from project.integrations import cognito

# How many never-seen pool users the admin page lists (the command streams them all).
SHOWN_UNSEEN = 500
# Users deactivated per query when a pass finds many missing.
SWEEP_BATCH = 1000


@dataclass(frozen=True)
class PoolUser:
    """A pool user who never signed in to the app: invitable (no password yet) or importable."""

    email: str
    sub: str
    status: str
    enabled: bool
    created: Any


@dataclass
class ReconcileResult:
    pool_users: int = 0
    pages: int = 0
    never_signed_in: int = 0
    unseen: list[PoolUser] = field(default_factory=list)
    newly_missing: int = 0
    missing: int = 0
    back_in_pool: int = 0


def _pool_user(user: dict[str, Any]) -> PoolUser:
    attributes = user["Attributes"]
    return PoolUser(
        email=attributes.get("email", ""),
        sub=attributes.get("sub", ""),
        status=str(user.get("UserStatus", "")),
        enabled=bool(user.get("Enabled", True)),
        created=user.get("UserCreateDate"),
    )


def _take_page(users: list[dict[str, Any]], started: Any) -> list[PoolUser]:
    """Stamp the page's known users as seen; return the page's users unknown here."""
    User = get_user_model()
    subs = {u["Attributes"].get("sub") for u in users} - {None, ""}
    if not subs:
        return []
    User.objects.filter(cognito_sub__in=subs).update(pool_seen_at=started)
    known = set(User.objects.filter(cognito_sub__in=subs).values_list("cognito_sub", flat=True))
    return [_pool_user(u) for u in users if u["Attributes"].get("sub") not in known]


def _sweep(started: Any, result: ReconcileResult) -> None:
    """After a complete pass: users not seen in it are missing from the pool; seen ones are back."""
    User = get_user_model()
    with_sub = User.objects.filter(cognito_sub__isnull=False)
    # Made during the pass (a first sign-in): the pass could not see them, they are not missing.
    not_seen = with_sub.filter(date_joined__lt=started).filter(
        Q(pool_seen_at__isnull=True) | Q(pool_seen_at__lt=started)
    )
    result.back_in_pool = with_sub.filter(pool_seen_at=started, pool_missing_since__isnull=False).update(
        pool_missing_since=None
    )
    newly = not_seen.filter(pool_missing_since__isnull=True).values_list("pk", flat=True)
    while batch := list(newly[:SWEEP_BATCH]):
        result.newly_missing += User.objects.filter(pk__in=batch).update(
            pool_missing_since=started, is_active=False
        )
        for user in User.objects.filter(pk__in=batch).only("pk"):
            operators.end_django_sessions(user, services.ENDED_DISABLED)
    result.missing = not_seen.count()


def users_reconcile(
    *,
    operator: operators.Operator | None = None,
    keep_unseen: int = SHOWN_UNSEEN,
    on_unseen: Callable[[PoolUser], None] | None = None,
) -> ReconcileResult:
    """One complete pass over the pool; CognitoError (nothing marked) if it cannot finish."""
    started = timezone.now()
    result = ReconcileResult()
    pool = cognito.user_pool()
    token: str | None = None
    while True:
        users, token = pool.list_users_page(pagination_token=token)
        result.pages += 1
        result.pool_users += len(users)
        for pool_user in _take_page(users, started):
            result.never_signed_in += 1
            if on_unseen is not None:
                on_unseen(pool_user)
            if len(result.unseen) < keep_unseen:
                result.unseen.append(pool_user)
        if not token:
            break
    _sweep(started, result)
    OperatorAction.objects.create(
        actor=operator.user if operator else None,
        actor_email=operator.email if operator else "manage.py reconcile_users",
        action="reconcile",
        detail=(
            f"{result.pool_users} in pool, {result.never_signed_in} never signed in, "
            f"{result.newly_missing} newly missing, {result.missing} missing"
        ),
        succeeded=True,
    )
    return result
