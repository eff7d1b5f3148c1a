"""Reconciling local users with the user pool (ListUsers), in bounded memory.

A pass pages through ListUsers (≤ 60 users a page, following PaginationToken until there is none; a
page may be empty while a token is still given). Per page it runs three queries: stamp the local
users whose sub is on the page as seen (`pool_seen_at` = the pass's start), find those the pool
lists as enabled again who are inactive here as DISABLED (below), and read which of the page's subs
are known here; the others are pool users who never signed in to the app. Only after the last page
— a complete pass — are local users not stamped marked as missing from the pool (deleted there),
deactivated and signed out; a pass cut short by Cognito marks no one missing. Memory holds one
page, the page's known subs and at most `keep_unseen` never-seen users (the rest are only counted,
or streamed to `on_unseen`), whatever the pool's size. Running it again changes nothing that has
not changed in the pool (idempotent).

The pool's `Enabled` is mirrored page by page (each page is a fact about the users on it, whether
or not the pass completes; a page with disabled users costs two more queries). A page may be out of
date by the time it is applied (an operator pressed Disable or Enable meanwhile), so each user whose
state here would flip is confirmed first: under their row's lock, one AdminGetUser (users whose
state does not flip cost no call), and the flip happens only if the pool still says so. Operators'
actions write Cognito before the row, so a pass never undoes a change made after its page was
read (_flip). A local user the pool lists as disabled (say, in the Cognito console) is
deactivated here with `deactivated_as = DISABLED` and signed out at once, as the operator's
Disable does. One deactivated as DISABLED whom the pool lists as enabled again is active again:
DISABLED only ever mirrors the pool (the operator's Disable disables there first; a sign-in after
an Enable in the console reactivates just the same, services.user_let_in_by_cognito). Users made
inactive for any other reason (`deactivated_as` empty) are never reactivated by a pass. A user
found again after being missing but disabled there stays inactive, now as DISABLED. AWS revokes a
disabled user's tokens itself (AdminDisableUser), so only the Django sessions are ended here.

One pass at a time (a Postgres advisory lock; a second is refused with ReconcileRunning): two
overlapping passes would each see the other's stamps as old. `pool_seen_at` never moves back.
A user found again who was deactivated only because a pass missed them is active again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Greatest
from django.utils import timezone

from accounts import operators, services
from accounts.models import DISABLED, MISSING, OperatorAction
from project import text
from project.integrations import cognito

# How many never-seen pool users the admin page lists (the command streams them all).
SHOWN_UNSEEN = 500
# Users deactivated per query when a pass finds many missing.
SWEEP_BATCH = 1000
# The advisory lock that keeps passes from overlapping (any fixed 64-bit key unique to this use).
LOCK_KEY = 0x7265636F6E63696C  # "reconcil"


class ReconcileRunning(Exception):
    """Another pass (the admin's button, the cron job) is running: this one did not start."""


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
    # Deactivated here because the pool lists them disabled; active again because it lists them enabled.
    newly_disabled: int = 0
    enabled_again: int = 0


def _pool_user(user: dict[str, Any]) -> PoolUser:
    attributes = user["Attributes"]
    return PoolUser(
        email=text.shown(attributes.get("email", "")),  # listed for staff: bidi written out
        sub=attributes.get("sub", ""),
        status=str(user.get("UserStatus", "")),
        enabled=bool(user.get("Enabled", True)),
        created=user.get("UserCreateDate"),
    )


def _mirror_enabled(users: list[dict[str, Any]], subs: set[str], result: ReconcileResult) -> None:
    """The page's `Enabled`, mirrored: disabled there, inactive (and signed out) here; enabled again
    there, active again here — only for users deactivated as DISABLED, never for another reason.
    Each user whose state would flip is confirmed first (_flip): the page may be out of date."""
    User = get_user_model()
    names = {u["Attributes"].get("sub"): str(u.get("Username", "")) for u in users}
    disabled = {u["Attributes"].get("sub") for u in users if not u.get("Enabled", True)} & subs
    enabled = subs - disabled
    if enabled:
        back = User.objects.filter(cognito_sub__in=enabled, is_active=False, deactivated_as=DISABLED)
        for pk, sub in back.values_list("pk", "cognito_sub"):
            result.enabled_again += _flip(pk, names[sub], sub, enabled=True)
    if not disabled:
        return
    on_page = User.objects.filter(cognito_sub__in=disabled)
    # Missing before, found now but disabled: the sweep must not reactivate them as found again.
    on_page.filter(is_active=False, deactivated_as=MISSING).update(deactivated_as=DISABLED)
    for pk, sub in on_page.filter(is_active=True).values_list("pk", "cognito_sub"):
        result.newly_disabled += _flip(pk, names[sub], sub, enabled=False)


def _flip(pk: int, username: str, sub: str, *, enabled: bool) -> bool:
    """Make one user active (`enabled`) or inactive as DISABLED, if the pool still says so now.

    The page may be out of date: an operator may have pressed Disable or Enable since it was read.
    Their action writes Cognito first and this row after, so under this row's lock (their write
    waits for it) the pool's answer now (AdminGetUser) is never older than the row: acting on it
    never undoes their change, and their later write of the row lands after this one."""
    User = get_user_model()
    flips = Q(is_active=False, deactivated_as=DISABLED) if enabled else Q(is_active=True)
    with transaction.atomic():
        user = User.objects.select_for_update().filter(flips, pk=pk).only("pk").first()
        if user is None or not _pool_says(username, sub, enabled=enabled):
            return False
        if enabled:
            User.objects.filter(pk=pk).update(is_active=True, deactivated_as="")
        else:
            User.objects.filter(pk=pk).update(is_active=False, deactivated_as=DISABLED)
            operators.end_django_sessions(user, services.ENDED_DISABLED)
    return True


def _pool_says(username: str, sub: str, *, enabled: bool) -> bool:
    """Whether the pool's user `username`, still with this sub, is `enabled` now. Deleted there
    since: no (a later complete pass finds them missing)."""
    try:
        state = cognito.user_pool().admin_get_user(username=username)
    except cognito.UserNotFound:
        return False
    return state["Attributes"].get("sub") == sub and bool(state.get("Enabled", True)) == enabled


def _take_page(users: list[dict[str, Any]], started: Any, result: ReconcileResult) -> list[PoolUser]:
    """Stamp the page's known users as seen, mirror their `Enabled`; return the page's users
    unknown here."""
    User = get_user_model()
    subs = {u["Attributes"].get("sub") for u in users} - {None, ""}
    if not subs:
        return []
    # Never back in time (GREATEST; NULL counts as older): a later pass's stamp stays.
    User.objects.filter(cognito_sub__in=subs).update(pool_seen_at=Greatest("pool_seen_at", Value(started)))
    _mirror_enabled(users, subs, result)
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
    back = with_sub.filter(pool_seen_at__gte=started, pool_missing_since__isnull=False)
    # Deactivated only because they were missing: active again (a disabled one stays disabled).
    back.filter(is_active=False, deactivated_as=MISSING).update(is_active=True, deactivated_as="")
    result.back_in_pool = back.update(pool_missing_since=None)
    newly = not_seen.filter(pool_missing_since__isnull=True).values_list("pk", flat=True)
    while batch := list(newly[:SWEEP_BATCH]):
        result.newly_missing += User.objects.filter(pk__in=batch).update(
            pool_missing_since=started,
            is_active=False,
            # Already inactive (disabled by an operator): that reason stays.
            deactivated_as=Case(When(is_active=False, then=F("deactivated_as")), default=Value(MISSING)),
        )
        for user in User.objects.filter(pk__in=batch).only("pk"):
            operators.end_django_sessions(user, services.ENDED_DISABLED)
    result.missing = not_seen.count()


@contextmanager
def _one_pass_at_a_time() -> Iterator[None]:
    """The session-level advisory lock, on this connection; released however the pass ends."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [LOCK_KEY])
        if not cursor.fetchone()[0]:
            raise ReconcileRunning("Another reconciliation is running: nothing was done, try again later.")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])


def _record(operator: operators.Operator | None, *, detail: str = "", error: str = "") -> None:
    OperatorAction.objects.create(
        actor=operator.user if operator else None,
        actor_email=operator.email if operator else "manage.py reconcile_users",
        action="reconcile",
        detail=detail,
        succeeded=not error,
        error=error[:500],
    )


def users_reconcile(
    *,
    operator: operators.Operator | None = None,
    keep_unseen: int = SHOWN_UNSEEN,
    on_unseen: Callable[[PoolUser], None] | None = None,
) -> ReconcileResult:
    """One complete pass over the pool; CognitoError (no one marked missing) if it cannot finish,
    ReconcileRunning if another pass is running. Each is recorded in the audit trail."""
    result = ReconcileResult()
    try:
        with _one_pass_at_a_time():
            _reconcile(result, keep_unseen=keep_unseen, on_unseen=on_unseen)
    except ReconcileRunning as exc:
        _record(operator, error=f"refused: {exc}")
        raise
    except cognito.CognitoError as exc:
        _record(
            operator,
            error=(
                f"Cognito could not be read to the end: no one was marked missing ({exc}); "
                f"from the {result.pages} pages read, {_enabled_changes(result)}"
            ),
        )
        raise
    _record(
        operator,
        detail=(
            f"{result.pool_users} in pool, {result.never_signed_in} never signed in, "
            f"{result.newly_missing} newly missing, {result.missing} missing, {_enabled_changes(result)}"
        ),
    )
    return result


def _enabled_changes(result: ReconcileResult) -> str:
    return f"{result.newly_disabled} newly disabled, {result.enabled_again} enabled again"


def _reconcile(
    result: ReconcileResult, *, keep_unseen: int, on_unseen: Callable[[PoolUser], None] | None
) -> None:
    started = timezone.now()
    pool = cognito.user_pool()
    token: str | None = None
    while True:
        users, token = pool.list_users_page(pagination_token=token)
        result.pages += 1
        result.pool_users += len(users)
        for pool_user in _take_page(users, started, result):
            result.never_signed_in += 1
            if on_unseen is not None:
                on_unseen(pool_user)
            if len(result.unseen) < keep_unseen:
                result.unseen.append(pool_user)
        if not token:
            break
    _sweep(started, result)


# --- Browsing the pool users who never signed in here (no pass: a read, one window at a time) ------

# The UserStatus values ListUsers can filter on (cognito:user_status), as the console offers them.
USER_STATUSES = (
    "FORCE_CHANGE_PASSWORD",
    "UNCONFIRMED",
    "CONFIRMED",
    "EXTERNAL_PROVIDER",
    "RESET_REQUIRED",
)
# A window shows at least this many never-seen users (unless the pool ends first)...
WINDOW_USERS = 50
# ...reading at most this many ListUsers pages (≤ 60 users each) to find them.
WINDOW_PAGES = 5


@dataclass
class UnseenWindow:
    """Some of the pool users never seen here, and where the next window starts (None: the end)."""

    users: list[PoolUser]
    next_token: str | None
    scanned: int


def pool_users_never_seen(*, pagination_token: str | None = None, status: str = "") -> UnseenWindow:
    """One bounded window of the pool users no local user has the sub of, read from ListUsers now
    (whole pages, at most WINDOW_PAGES of them, so at most WINDOW_PAGES × 60 users in memory);
    `status` (one of USER_STATUSES) filters in Cognito. Nothing is written. CognitoError as raised:
    AdminCallRefused for a pagination token Cognito no longer takes."""
    User = get_user_model()
    user_filter = cognito.list_users_filter("cognito:user_status", status) if status in USER_STATUSES else ""
    pool = cognito.user_pool()
    window = UnseenWindow(users=[], next_token=pagination_token or None, scanned=0)
    for _ in range(WINDOW_PAGES):
        users, window.next_token = pool.list_users_page(
            pagination_token=window.next_token, user_filter=user_filter
        )
        window.scanned += len(users)
        subs = {u["Attributes"].get("sub") for u in users} - {None, ""}
        known = set(User.objects.filter(cognito_sub__in=subs).values_list("cognito_sub", flat=True))
        window.users += [_pool_user(u) for u in users if u["Attributes"].get("sub") not in known]
        if not window.next_token or len(window.users) >= WINDOW_USERS:
            break
    return window
