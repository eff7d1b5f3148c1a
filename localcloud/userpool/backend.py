"""Lookups into moto's in-process cognito-idp backends (every region, the default account)."""

from __future__ import annotations

from collections.abc import Iterator

import jwt
from moto.cognitoidp.exceptions import NotAuthorizedError, ResourceNotFoundError
from moto.cognitoidp.models import CognitoIdpBackend, CognitoIdpUserPoolClient, cognitoidp_backends
from moto.core import DEFAULT_ACCOUNT_ID

from localcloud import moto_adapter as moto
from localcloud.userpool.models import LocalUserPool

ACCOUNT_ID = DEFAULT_ACCOUNT_ID


def backend(region: str) -> CognitoIdpBackend:
    """The cognito-idp backend of one region (created on first use)."""
    return cognitoidp_backends[ACCOUNT_ID][region]


def all_pools() -> Iterator[LocalUserPool]:
    """Every user pool in every region that has been touched."""
    for region_backend in list(cognitoidp_backends[ACCOUNT_ID].values()):
        yield from region_backend.user_pools.values()  # type: ignore[misc]


def pool_by_id(pool_id: str) -> LocalUserPool | None:
    """The pool with this id, or None."""
    return next((p for p in all_pools() if p.id == pool_id), None)


def pool_for_client(client_id: str) -> tuple[LocalUserPool, CognitoIdpUserPoolClient]:
    """The pool and app client for a client id; ResourceNotFound like Cognito otherwise."""
    if isinstance(client_id, str) and client_id:
        for pool in all_pools():
            client = pool.clients.get(client_id)
            if client is not None:
                return pool, client
    raise ResourceNotFoundError("User pool client " + str(client_id)[:64] + " does not exist.")


def pool_for_token(token: str) -> tuple[LocalUserPool, dict]:
    """The pool that issued a JWT (by its iss claim) and its unverified claims."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except (jwt.PyJWTError, TypeError, ValueError):
        raise NotAuthorizedError("Invalid Access Token") from None
    iss = claims.get("iss")
    pool_id = iss.rsplit("/", 1)[-1] if isinstance(iss, str) else None
    pool = pool_by_id(pool_id) if pool_id else None
    if pool is None or pool.issuer != iss:
        raise NotAuthorizedError("Invalid Access Token")
    return pool, claims


def verify_access_token(token: object, *, required_scope: str | None = None) -> tuple[LocalUserPool, dict]:
    """Check an access token as Cognito's own APIs do: signature, expiry, use, revocation, scope."""
    if not isinstance(token, str) or not token:
        raise NotAuthorizedError("Invalid Access Token")
    pool, _ = pool_for_token(token)
    try:
        kid = jwt.get_unverified_header(token).get("kid")
        key = pool.keystore.public_key(kid) if pool.keystore and isinstance(kid, str) else None
        if key is None:
            raise NotAuthorizedError("Invalid Access Token")
        claims = jwt.decode(
            token,
            key,
            algorithms=["RS256"],
            issuer=pool.issuer,
            options={"require": ["exp", "iat", "token_use"]},
        )
    except jwt.ExpiredSignatureError:
        raise NotAuthorizedError("Access Token has expired") from None
    except jwt.PyJWTError:
        raise NotAuthorizedError("Invalid Access Token") from None
    if claims.get("token_use") != "access":
        raise NotAuthorizedError("Invalid Access Token")
    if not moto.access_token_live(pool, token):
        # Signature is fine but GlobalSignOut/RevokeToken removed it: Cognito's APIs see that.
        raise NotAuthorizedError("Access Token has been revoked")
    if required_scope and required_scope not in str(claims.get("scope", "")).split():
        raise NotAuthorizedError("Access Token does not have required scopes")
    user = moto.get_user(pool, claims.get("username", ""))
    if user is None:
        raise NotAuthorizedError("User does not exist.")
    if not user.enabled:
        raise NotAuthorizedError("User is disabled.")
    return pool, claims
