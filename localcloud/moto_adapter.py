"""Every reach into moto's internals, behind named accessors.

moto is pinned exactly; what localcloud relies on beyond moto's public behaviour (private lookups,
the shape of its token tables, its per-service server apps) is read here and nowhere else, and
tests/localcloud/test_moto_contract.py pins those shapes, so a moto upgrade fails in one place.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from moto.cognitoidp.models import CognitoIdpUser, CognitoIdpUserPool
from moto.moto_server.werkzeug_app import BackendRequest, create_backend_app


# --- moto server: one backend app per service -----------------------------------------------------
def backend_app(service: str) -> Any:
    """moto's WSGI app for exactly one service (``s3``, ``cognito-idp``), never its dispatcher.

    moto's DomainDispatcherApplication picks a service from the host, the credential scope, a form's
    Action or the path (``/moto-api`` dumps every backend): localcloud routes by origin instead.
    """
    app = create_backend_app(service)
    app.request_class = _CheckedBodyRequest
    return app


# A request whose environ carries this flag reaches moto with its body as the gate read it: moto's
# request never parses it as a form (a form content type would otherwise make werkzeug consume the
# body, and moto read an empty one, or form fields as query parameters and as the object's body).
RAW_BODY = "localcloud.raw_body"


class _CheckedBodyRequest(BackendRequest):
    """moto's request class, but a flagged request's body is never parsed as a form."""

    @property
    def want_form_data_parsed(self) -> bool:
        """No form parsing for requests the gate checked as raw bodies; werkzeug's rule otherwise."""
        return not self.environ.get(RAW_BODY) and bool(self.environ.get("CONTENT_TYPE"))


# --- cognito-idp: users ----------------------------------------------------------------------------
def get_user(pool: CognitoIdpUserPool, username: str) -> CognitoIdpUser | None:
    """The user by username, sub or (email) alias, or None: moto's own lookup."""
    if not isinstance(username, str) or not username:
        return None
    return pool._get_user(username)


# --- cognito-idp: refresh tokens -------------------------------------------------------------------
class RefreshEntry(NamedTuple):
    """What moto keeps per live refresh token (``pool.refresh_tokens[token]``)."""

    client_id: str
    username: str
    origin_jti: str


def refresh_token_known(pool: CognitoIdpUserPool, token: str) -> bool:
    """Whether the pool ever issued the token (revoked ones included)."""
    return token in pool.refresh_tokens


def refresh_entry(pool: CognitoIdpUserPool, token: str) -> RefreshEntry | None:
    """The live entry of a refresh token; None when unknown or revoked."""
    entry = pool.refresh_tokens.get(token)
    return RefreshEntry(*entry) if entry is not None else None


def store_refresh_token(pool: CognitoIdpUserPool, token: str, entry: RefreshEntry) -> None:
    """Record a refresh token as moto does (its own refresh flows read the same table)."""
    pool.refresh_tokens[token] = tuple(entry)


def revoke_refresh_token(pool: CognitoIdpUserPool, token: str) -> None:
    """Mark a refresh token revoked the way moto's GlobalSignOut does (entry set to None)."""
    if token in pool.refresh_tokens:
        pool.refresh_tokens[token] = None


def refresh_entries(pool: CognitoIdpUserPool) -> list[tuple[str, RefreshEntry]]:
    """Every live (token, entry)."""
    return [(token, RefreshEntry(*entry)) for token, entry in list(pool.refresh_tokens.items()) if entry]


def forget_refresh_token(pool: CognitoIdpUserPool, token: str) -> None:
    """Drop a refresh token entirely (expired: nothing should mention it any more)."""
    pool.refresh_tokens.pop(token, None)


# --- cognito-idp: access and ID tokens ---------------------------------------------------------
# moto keeps ``pool.access_tokens[token] = (client_id, username)`` (and the same for ID tokens);
# its GetUser and GlobalSignOut read them, so localcloud's tokens are recorded there too.
def store_access_token(pool: CognitoIdpUserPool, token: str, client_id: str, username: str) -> None:
    """Record an issued access token (live until revoked or pruned)."""
    pool.access_tokens[token] = (client_id, username)


def store_id_token(pool: CognitoIdpUserPool, token: str, client_id: str, username: str) -> None:
    """Record an issued ID token."""
    pool.id_tokens[token] = (client_id, username)


def access_token_live(pool: CognitoIdpUserPool, token: str) -> bool:
    """Whether an access token is still recorded (not signed out, revoked or pruned)."""
    return token in pool.access_tokens


def access_tokens(pool: CognitoIdpUserPool) -> list[tuple[str, str]]:
    """Every live (access token, username)."""
    return [(token, entry[1]) for token, entry in list(pool.access_tokens.items())]


def id_tokens(pool: CognitoIdpUserPool) -> list[str]:
    """Every recorded ID token."""
    return list(pool.id_tokens)


def forget_access_token(pool: CognitoIdpUserPool, token: str) -> None:
    """Revoke (or prune) an access token."""
    pool.access_tokens.pop(token, None)


def forget_id_token(pool: CognitoIdpUserPool, token: str) -> None:
    """Prune an ID token."""
    pool.id_tokens.pop(token, None)


# --- cognito-idp: the user's pool --------------------------------------------------------------------
def user_pool_id(user: CognitoIdpUser) -> str:
    """The id of the pool a user belongs to."""
    return str(user.user_pool_id)


# --- cognito-idp: groups ----------------------------------------------------------------------------
class GroupRole(NamedTuple):
    """A group's IAM role and precedence, as CreateGroup/UpdateGroup set them (None: not set)."""

    role_arn: str | None
    precedence: int | None


def group_roles(user: CognitoIdpUser) -> list[GroupRole]:
    """The role and precedence of every group the user belongs to (moto's group attributes)."""
    return [GroupRole(group.role_arn or None, group.precedence) for group in user.groups]
