"""The hosted UI's in-memory stores: authorization codes and sign-in sessions (lost on restart)."""

from __future__ import annotations

import secrets
import time
import uuid
from dataclasses import dataclass

from moto.cognitoidp.models import UserStatus

from localcloud import moto_adapter as moto
from localcloud.hostedui.flow import AuthorizeRequest
from localcloud.userpool.models import EXTERNAL_PROVIDER, LocalUserPool


@dataclass
class AuthCode:
    """An issued authorization code (single use, short-lived)."""

    pool_id: str
    client_id: str
    redirect_uri: str
    username: str
    scopes: list[str]
    nonce: str | None
    code_challenge: str | None
    auth_time: int
    expires: float
    used: bool = False
    origin_jti: str | None = None
    federated: bool = False  # the sign-in went through an external provider


@dataclass
class HostedSession:
    """The hosted-UI sign-in session behind the cookie."""

    pool_id: str
    username: str
    auth_time: int
    expires: float
    federated: bool = False  # started by a sign-in through an external provider


class CodeStore:
    """Issued authorization codes, single use, short-lived."""

    def __init__(self, lifetime: int) -> None:
        """Codes live lifetime seconds (Cognito: 5 minutes)."""
        self.lifetime = lifetime
        self._codes: dict[str, AuthCode] = {}

    def issue(self, auth: AuthorizeRequest, username: str, auth_time: int, federated: bool = False) -> str:
        """A new code for a completed sign-in (expired ones older than an hour are forgotten)."""
        now = time.time()
        for key in [k for k, c in self._codes.items() if c.expires < now - 3600]:
            del self._codes[key]
        code = str(uuid.uuid4())
        self._codes[code] = AuthCode(
            pool_id=auth.pool.id,
            client_id=auth.client.id,
            redirect_uri=auth.redirect_uri,
            username=username,
            scopes=auth.scopes,
            nonce=auth.nonce,
            code_challenge=auth.code_challenge,
            auth_time=auth_time,
            expires=now + self.lifetime,
            federated=federated,
        )
        return code

    def get(self, code: str) -> AuthCode | None:
        """The code's record (used and expired ones included: the caller decides)."""
        return self._codes.get(code)


class SessionStore:
    """Hosted-UI sign-in sessions behind the ``cognito`` cookie."""

    def __init__(self, lifetime: int) -> None:
        """Sessions live lifetime seconds."""
        self.lifetime = lifetime
        self._sessions: dict[str, HostedSession] = {}

    def start(self, pool_id: str, username: str, auth_time: int, federated: bool = False) -> str:
        """A new session id."""
        sid = secrets.token_urlsafe(32)
        self._sessions[sid] = HostedSession(
            pool_id, username, auth_time, time.time() + self.lifetime, federated
        )
        return sid

    def current(self, sid: str | None, pool: LocalUserPool) -> HostedSession | None:
        """The live session for this pool, while its user may still sign in."""
        session = self._sessions.get(sid or "")
        if session is None or session.expires < time.time() or session.pool_id != pool.id:
            return None
        user = moto.get_user(pool, session.username)
        if user is None or not user.enabled or user.status not in (UserStatus.CONFIRMED, EXTERNAL_PROVIDER):
            return None
        return session

    def end(self, sid: str) -> None:
        """Forget a session (sign-out)."""
        self._sessions.pop(sid, None)
