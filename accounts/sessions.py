"""The index of each user's signed-in sessions (accounts.models.UserSession), kept in step.

Rows are made at sign-in (`user_logged_in`), touched at most every SESSION_INDEX_TOUCH seconds
by `SessionActivityMiddleware`, and deleted with their Django session (sign-out, a cycled key,
expiry through `clearsessions`, or `user_sessions_end`).
"""

from __future__ import annotations

import ipaddress
import logging
import time
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import UserSession
from accounts.services import REFRESH_TOKEN
from project.integrations import cognito

logger = logging.getLogger(__name__)

# Session key: when this session's index row was last touched (epoch seconds).
TOUCHED = "session_index_touched"


def approximate_ip(address: str) -> str:
    """IPv4 to its /24, IPv6 to its /48, as text ("203.0.113.0/24"); "" when unparsable."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return ""
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def client_ip(request: HttpRequest) -> str:
    """The client's address: behind a proxy (DJANGO_BEHIND_PROXY) the one it appended last."""
    if settings.BEHIND_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.rsplit(",", 1)[-1].strip()
    return request.META.get("REMOTE_ADDR", "")


def _describe(request: HttpRequest) -> dict[str, Any]:
    return {
        "user_agent": request.META.get("HTTP_USER_AGENT", "")[:512],
        "ip_prefix": approximate_ip(client_ip(request)),
    }


def session_index_add(*, request: HttpRequest, user: Any) -> None:
    """Index the request's (saved) session as the user's; replaces any row of that key."""
    key = request.session.session_key
    if not key:
        return
    now = timezone.now()
    try:
        with transaction.atomic():
            UserSession.objects.update_or_create(
                session_id=key,
                defaults={"user": user, "last_seen": now, **_describe(request)},
                create_defaults={"user": user, "created": now, "last_seen": now, **_describe(request)},
            )
    except IntegrityError:  # the session was deleted meanwhile (ended elsewhere): nothing to index
        logger.info("session of user %s ended before it was indexed", user.pk)
        return
    request.session[TOUCHED] = int(time.time())


def session_index_on_login(sender: Any, *, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    """`user_logged_in` receiver: auth.login() has just saved the session under a new key."""
    if request is not None and hasattr(request, "session"):
        session_index_add(request=request, user=user)


def session_index_touch(*, request: HttpRequest) -> None:
    """Record activity on the signed-in request's session, at most once per SESSION_INDEX_TOUCH s.

    A session signed in before the index existed is indexed on its first request here.
    """
    key = request.session.session_key
    touched = request.session.get(TOUCHED)
    if not key or (isinstance(touched, int) and time.time() - touched < settings.SESSION_INDEX_TOUCH):
        return
    updated = UserSession.objects.filter(session_id=key, user=request.user).update(
        last_seen=timezone.now(), **_describe(request)
    )
    if updated:
        request.session[TOUCHED] = int(time.time())
    else:
        session_index_add(request=request, user=request.user)


def _refresh_tokens(sessions: list[Session]) -> list[str]:
    tokens = []
    for session in sessions:
        try:
            token = session.get_decoded().get(REFRESH_TOKEN)
        except Exception:  # noqa: BLE001 - undecodable session data: nothing to revoke
            token = None
        if token:
            tokens.append(token)
    return tokens


def _end(sessions_query: Any, revoke_tokens: bool) -> int:
    """Delete these Django sessions (their index rows go by cascade); revoke their refresh tokens."""
    with transaction.atomic():
        sessions = list(Session.objects.select_for_update().filter(session_key__in=sessions_query))
        tokens = _refresh_tokens(sessions) if revoke_tokens else []
        deleted = Session.objects.filter(session_key__in=[s.session_key for s in sessions]).delete()[1]
    for token in tokens:
        try:
            cognito.user_pool().revoke(token)
        except cognito.CognitoError as exc:
            logger.warning("could not revoke an ended session's refresh token: %s", exc)
    return deleted.get(Session._meta.label, 0)


def user_sessions_end(*, user: Any, keep_session_key: str | None = None, revoke_tokens: bool = True) -> int:
    """End the user's signed-in sessions (all but `keep_session_key`); returns how many ended.

    Each browser is signed out at its next request (its session row is gone). With
    `revoke_tokens`, each session's Cognito refresh token is revoked too (best effort: one call
    per session; the local sign-out stands whether or not Cognito answers).
    """
    rows = UserSession.objects.filter(user=user).exclude(session_id=keep_session_key or "")
    return _end(rows.values("session_id"), revoke_tokens)


def user_session_end(*, user: Any, session_key: str, revoke_tokens: bool = True) -> bool:
    """End one of this user's sessions (never another user's); True if it was signed in."""
    rows = UserSession.objects.filter(user=user, session_id=session_key)
    return _end(rows.values("session_id"), revoke_tokens) > 0


def user_session_values_drop(*, user: Any, names: Iterable[str]) -> int:
    """Drop these values from every signed-in session of the user; returns how many held one.

    Each session row is rewritten under SELECT … FOR UPDATE. A request of that user running at the
    same moment that then saves its session (Django writes the whole session) can put an old value
    back: what is dropped here must be a copy its owner can read again, never a security decision.
    """
    names = tuple(names)
    store = SessionStore()
    changed = 0
    with transaction.atomic():
        rows = Session.objects.select_for_update().filter(
            session_key__in=UserSession.objects.filter(user=user).values("session_id")
        )
        for row in rows:
            data = row.get_decoded()  # undecodable data reads as {}: nothing to drop
            if not any(name in data for name in names):
                continue
            for name in names:
                data.pop(name, None)
            row.session_data = store.encode(data)
            row.save(update_fields=["session_data"])
            changed += 1
    return changed


def session_values_on_stale(sender: Any, *, user: Any, names: Iterable[str], **kwargs: Any) -> None:
    """`accounts.signals.user_session_values_stale` receiver."""
    user_session_values_drop(user=user, names=names)
