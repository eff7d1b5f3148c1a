"""moto's user pool model, subclassed so tokens are Cognito-shaped and signed with our own key.

moto builds every pool through the module-level name ``moto.cognitoidp.models.CognitoIdpUserPool``
(``CognitoIdpBackend.create_user_pool``), so rebinding that name (``install``) is enough for all of
moto's code paths (InitiateAuth, RespondToAuthChallenge, ...) to issue our tokens.
"""

from __future__ import annotations

import json
import secrets
import string
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, ClassVar

import jwt
from moto.cognitoidp import models as moto_models
from moto.cognitoidp.exceptions import NotAuthorizedError
from moto.cognitoidp.models import CognitoIdpUser, CognitoIdpUserPool, CognitoIdpUserPoolClient

from localcloud import moto_adapter as moto
from localcloud.config import token_validity_seconds
from localcloud.keys import KeyStore

# The scope of tokens from the InitiateAuth API; the hosted UI grants it only when asked.
ADMIN_SCOPE = "aws.cognito.signin.user.admin"
# UserStatus of a user created by a federated sign-in (moto's UserStatus enum lacks it).
EXTERNAL_PROVIDER = "EXTERNAL_PROVIDER"


def is_external(user: CognitoIdpUser) -> bool:
    """Whether the user was created by a federated sign-in (``<Provider>_<id>``, no password)."""
    return user.status == EXTERNAL_PROVIDER


def id_token_identities(user: CognitoIdpUser) -> list[dict[str, Any]] | None:
    """The ``identities`` attribute (a JSON string) as the ID token carries it: every value a string."""
    raw = user.attribute_lookup.get("identities")
    if not raw:
        return None
    try:
        entries = json.loads(raw)
    except ValueError:
        return None
    return [
        {k: (None if v is None else str(v).lower() if isinstance(v, bool) else str(v)) for k, v in e.items()}
        for e in entries
        if isinstance(e, dict)
    ]


@dataclass
class Origin:
    """One authentication event: its refresh token and the access/ID tokens issued from it."""

    client_id: str
    username: str
    scopes: list[str]
    auth_time: int
    refresh_token: str
    refresh_expires: int
    event_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    revoked: bool = False
    # Made by a sign-in through an external provider (/oauth2/idpresponse): only such tokens carry
    # the `identities` claim, whatever the user's links (reference §2: federated users only).
    federated: bool = False


@dataclass
class UserState:
    """What localcloud keeps per user beyond moto's user object (codes, TOTP secrets)."""

    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    totp_secret: str | None = None
    totp_pending_secret: str | None = None
    temporary_password_expires: float | None = None
    # The last 30-s time step whose TOTP code signed in: a code is accepted once (RFC 6238 §5.2).
    totp_last_step: int = 0
    # Wrong codes for the pending secret (VerifySoftwareToken); a new secret starts again at zero.
    totp_setup_failures: int = 0
    # An email change waiting for its code (AttributesRequireVerificationBeforeUpdate).
    pending_email: str | None = None


# Attributes older snapshots set directly on moto's user objects, and their UserState fields.
_LEGACY_USER_ATTRIBUTES = {
    "lc_codes": "codes",
    "totp_secret": "totp_secret",
    "totp_pending_secret": "totp_pending_secret",
    "lc_temp_expires": "temporary_password_expires",
}


def group_role_claims(groups: list[moto.GroupRole]) -> dict[str, Any]:
    """`cognito:roles` and `cognito:preferred_role` of the ID token, from the user's groups' roles.

    Every group role is listed; the preferred one is the role of the lowest-Precedence group (a
    group without precedence loses to any with one), left out when the best groups tie with
    different roles (cognito-reference-2 §2.1).
    """
    with_role = [g for g in groups if g.role_arn]
    if not with_role:
        return {}
    claims: dict[str, Any] = {"cognito:roles": sorted({g.role_arn for g in with_role})}
    ranked = [g for g in with_role if g.precedence is not None]
    if ranked:
        best = min(g.precedence for g in ranked if g.precedence is not None)
        preferred = {g.role_arn for g in ranked if g.precedence == best}
    else:
        preferred = {g.role_arn for g in with_role}
    if len(preferred) == 1:
        claims["cognito:preferred_role"] = preferred.pop()
    return claims


def _random_id(length: int, alphabet: str) -> str:
    """A random identifier drawn from alphabet."""
    return "".join(secrets.choice(alphabet) for _ in range(length))


class LocalUserPool(CognitoIdpUserPool):
    """A user pool whose tokens carry Cognito's full claim set and are signed by the KeyStore."""

    # Set once at start-up; a class attribute so it is never pickled with the pool.
    keystore: ClassVar[KeyStore | None] = None

    def __init__(self, account_id: str, region: str, name: str, extended_config: dict[str, Any]) -> None:
        """Create the pool with a Cognito-looking id (region_ + 9 alphanumerics)."""
        super().__init__(account_id, region, name, extended_config)
        # moto loads its bundled private key, which is public on GitHub: drop it so nothing signs
        # with it by accident.
        del self.json_web_key
        self.id = f"{region}_{_random_id(9, string.ascii_letters + string.digits)}"
        self.arn = self.arn.rsplit("/", 1)[0] + "/" + self.id
        self.origins: dict[str, Origin] = {}
        self.user_states: dict[str, UserState] = {}
        # Linked identities (AdminLinkProviderForUser): (ProviderName, provider user id) → username.
        self.provider_links: dict[tuple[str, str], str] = {}
        # (ProviderName, provider user id, username) links AdminDisableProviderForUser removed: the
        # emulated pre-sign-up trigger never links those again (an admin's explicit link may).
        self.unlinked: set[tuple[str, str, str]] = set()

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Restore from a pickle; older snapshots may lack newer attributes."""
        state.setdefault("origins", {})
        state.setdefault("user_states", {})
        state.setdefault("unlinked", set())
        links = state.setdefault("provider_links", {})
        # Older snapshots keyed links by "<ProviderName>:<id>" (ambiguous when a name holds ':').
        state["provider_links"] = {
            (tuple(k.split(":", 1)) if isinstance(k, str) else k): v for k, v in links.items()
        }
        self.__dict__.update(state)

    def _get_user(self, username: str) -> CognitoIdpUser:
        """moto's lookup by username or sign-in alias, where a federated user's e-mail is no alias.

        On Cognito a ``Google_…`` profile may carry the same e-mail as a native user (that is the
        duplicate that linking avoids); signing in with the e-mail must still find the native one.
        """
        for attribute in self.extended_config.get("UsernameAttributes") or []:
            for user in self.users.values():
                if not is_external(user) and user.attribute_lookup.get(attribute) == username:
                    return user
        return self.users.get(username)  # type: ignore[return-value]

    # --- identity helpers -------------------------------------------------------------------
    @property
    def issuer(self) -> str:
        """The issuer string, identical to AWS's."""
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.id}"

    def user(self, username: str) -> CognitoIdpUser:
        """The user by username, sub or email alias; NotAuthorized when unknown."""
        user = moto.get_user(self, username)
        if user is None:
            raise NotAuthorizedError("Incorrect username or password.")
        return user

    def user_state(self, user: CognitoIdpUser) -> UserState:
        """localcloud's own state of a user, keyed by its sub (a re-created user starts afresh)."""
        state = self.user_states.get(user.id)
        if state is None:
            state = self.user_states[user.id] = UserState()
            for legacy, name in _LEGACY_USER_ATTRIBUTES.items():
                if legacy in user.__dict__:  # migrate an older snapshot
                    setattr(state, name, user.__dict__.pop(legacy) or getattr(state, name))
        return state

    def client(self, client_id: str) -> CognitoIdpUserPoolClient:
        """The app client; NotAuthorized-free lookup used after the client is known to exist."""
        return self.clients[client_id]

    # --- signing ------------------------------------------------------------------------------
    def _sign(self, claims: dict[str, Any]) -> str:
        """Sign claims with the data dir's current key (header: kid + alg, like Cognito)."""
        if self.keystore is None:
            raise RuntimeError("LocalUserPool.keystore not configured (call install())")
        key = self.keystore.current()
        return jwt.encode(claims, key.private_key, algorithm="RS256", headers={"kid": key.kid, "typ": None})

    def create_jwt(self, *args: Any, **kwargs: Any) -> tuple[str, int]:
        """Refuse moto's generic signer: every token goes through the typed builders below."""
        raise NotImplementedError("localcloud issues tokens via create_access_token/id_token")

    # --- token builders (moto's signatures, so moto's auth flows call them) -----------------
    def create_refresh_token(
        self,
        client_id: str,
        username: str,
        scopes: list[str] | None = None,
        auth_time: int | None = None,
        federated: bool = False,
    ) -> tuple[str, str]:
        """Start an authentication event; returns (refresh_token, origin_jti)."""
        user = self.user(username)
        now = int(time.time())
        client = self.clients[client_id]
        # Cognito refresh tokens are opaque (encrypted JWTs); an unguessable string is equivalent.
        refresh_token = "lc." + secrets.token_urlsafe(96)
        origin_jti = str(uuid.uuid4())
        moto.store_refresh_token(self, refresh_token, moto.RefreshEntry(client_id, user.username, origin_jti))
        self.origins[origin_jti] = Origin(
            client_id=client_id,
            username=user.username,
            scopes=list(scopes) if scopes is not None else [ADMIN_SCOPE],
            auth_time=auth_time or now,
            refresh_token=refresh_token,
            refresh_expires=now + token_validity_seconds(client.extended_config, "RefreshToken"),
            federated=federated,
        )
        return refresh_token, origin_jti

    def _origin(self, origin_jti: str, client_id: str, username: str) -> Origin:
        """The origin for a jti; moto-created events without one get a default origin."""
        origin = self.origins.get(origin_jti)
        if origin is None:
            now = int(time.time())
            origin = Origin(client_id, self.user(username).username, [ADMIN_SCOPE], now, "", now)
            self.origins[origin_jti] = origin
        return origin

    def create_access_token(self, client_id: str, username: str, origin_jti: str) -> tuple[str, int]:
        """An access token exactly like Cognito's (no aud; client_id, scope, username...)."""
        user = self.user(username)
        origin = self._origin(origin_jti, client_id, username)
        lifetime = token_validity_seconds(self.clients[client_id].extended_config, "AccessToken")
        now = int(time.time())
        claims: dict[str, Any] = {"sub": user.id}
        if user.groups:
            claims["cognito:groups"] = sorted(g.group_name for g in user.groups)
        claims.update(
            {
                "iss": self.issuer,
                "version": 2,
                "client_id": client_id,
                "origin_jti": origin_jti,
                "event_id": origin.event_id,
                "token_use": "access",
                "scope": " ".join(origin.scopes),
                "auth_time": origin.auth_time,
                "exp": now + lifetime,
                "iat": now,
                "jti": str(uuid.uuid4()),
                "username": user.username,
            }
        )
        token = self._sign(claims)
        moto.store_access_token(self, token, client_id, user.username)
        return token, lifetime

    def create_id_token(
        self, client_id: str, username: str, origin_jti: str, nonce: str | None = None
    ) -> tuple[str, int]:
        """An ID token exactly like Cognito's: readable attributes, groups, nonce, auth_time."""
        user = self.user(username)
        origin = self._origin(origin_jti, client_id, username)
        client = self.clients[client_id]
        lifetime = token_validity_seconds(client.extended_config, "IdToken")
        now = int(time.time())
        readable = set(client.get_readable_fields())
        attrs = user.attribute_lookup
        claims: dict[str, Any] = {"sub": user.id}
        if user.groups:
            claims["cognito:groups"] = sorted(g.group_name for g in user.groups)
            claims.update(group_role_claims(moto.group_roles(user)))
        for name, value in attrs.items():
            if name in ("sub", "identities") or (readable and name not in readable):
                continue
            if name in ("email_verified", "phone_number_verified"):
                # Booleans in the ID token (strings in userInfo): Cognito's own inconsistency.
                claims[name] = str(value).lower() == "true"
            else:
                claims[name] = str(value)
        claims.update(
            {
                "iss": self.issuer,
                "cognito:username": user.username,
                "origin_jti": origin_jti,
                "aud": client_id,
                "event_id": origin.event_id,
                "token_use": "id",
                "auth_time": origin.auth_time,
                "exp": now + lifetime,
                "iat": now,
                "jti": str(uuid.uuid4()),
            }
        )
        identities = id_token_identities(user) if origin.federated else None
        if identities:
            # A sign-in through a provider (a provider-made or a linked user): a real array. A linked
            # user's password sign-in has none, so the app can tell how the person signed in.
            claims["identities"] = identities
        if nonce is not None:
            claims["nonce"] = nonce
        token = self._sign(claims)
        moto.store_id_token(self, token, client_id, user.username)
        return token, lifetime

    def refresh_origin(self, refresh_token: str) -> tuple[str, Origin]:
        """The (origin_jti, origin) of a live refresh token; NotAuthorized otherwise."""
        if not moto.refresh_token_known(self, refresh_token):
            raise NotAuthorizedError("Invalid Refresh Token")
        entry = moto.refresh_entry(self, refresh_token)
        if entry is None:
            raise NotAuthorizedError("Refresh Token has been revoked")
        origin_jti, username = entry.origin_jti, entry.username
        origin = self._origin(origin_jti, entry.client_id, username)
        if origin.revoked:
            raise NotAuthorizedError("Refresh Token has been revoked")
        if origin.refresh_expires and origin.refresh_expires < time.time():
            raise NotAuthorizedError("Refresh Token has expired")
        user = moto.get_user(self, username)
        if user is None:
            raise NotAuthorizedError("User does not exist.")
        if not user.enabled:
            raise NotAuthorizedError("User is disabled.")
        return origin_jti, origin

    def create_tokens_from_refresh_token(self, refresh_token: str) -> tuple[str, str, int]:
        """New access + ID tokens for a refresh token; auth_time stays the original sign-in's."""
        origin_jti, origin = self.refresh_origin(refresh_token)
        access, lifetime = self.create_access_token(origin.client_id, origin.username, origin_jti)
        id_token, _ = self.create_id_token(origin.client_id, origin.username, origin_jti)
        return access, id_token, lifetime

    # --- revocation -----------------------------------------------------------------------------
    def revoke_origin(self, origin_jti: str) -> None:
        """Revoke one refresh token and every access token issued from it (RevokeToken)."""
        origin = self.origins.get(origin_jti)
        if origin is None:
            return
        origin.revoked = True
        moto.revoke_refresh_token(self, origin.refresh_token)
        for token, _ in moto.access_tokens(self):
            claims = jwt.decode(token, options={"verify_signature": False})
            if claims.get("origin_jti") == origin_jti:
                moto.forget_access_token(self, token)

    def sign_out(self, username: str) -> None:
        """GlobalSignOut: revoke every refresh and access token of the user (any client)."""
        user = moto.get_user(self, username)
        canonical = user.username if user else username
        for origin in self.origins.values():
            if origin.username == canonical:
                origin.revoked = True
        for token, entry in moto.refresh_entries(self):
            if entry.username == canonical:
                moto.revoke_refresh_token(self, token)
        for token, owner in moto.access_tokens(self):
            if owner == canonical:
                moto.forget_access_token(self, token)

    def prune(self) -> None:
        """Forget expired access/ID tokens and refresh tokens so snapshots stay small."""
        now = time.time()

        def expired(token: str) -> bool:
            return jwt.decode(token, options={"verify_signature": False}).get("exp", 0) < now

        for token, _ in moto.access_tokens(self):
            if expired(token):
                moto.forget_access_token(self, token)
        for token in moto.id_tokens(self):
            if expired(token):
                moto.forget_id_token(self, token)
        for jti, origin in list(self.origins.items()):
            if origin.refresh_expires and origin.refresh_expires < now:
                moto.forget_refresh_token(self, origin.refresh_token)
                del self.origins[jti]
        subs = {user.id for user in self.users.values()}
        for sub in [s for s in self.user_states if s not in subs]:
            del self.user_states[sub]  # deleted users


def install(keystore: KeyStore) -> None:
    """Make moto build LocalUserPool objects, signing with keystore."""
    LocalUserPool.keystore = keystore
    moto_models.CognitoIdpUserPool = LocalUserPool  # type: ignore[misc]
