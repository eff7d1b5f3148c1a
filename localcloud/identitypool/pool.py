"""The seeded identity pool: identities, ID-token checks and temporary credentials (persisted).

State lives in ``<data-dir>/identity-pool.json`` (written atomically after each change): the
pool id, every identity with the login it belongs to, and the credentials issued, so identity
ids stay stable and credentials stay valid across restarts, as on AWS.
"""

from __future__ import annotations

import json
import secrets
import string
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import jwt

from localcloud.config import Config
from localcloud.files import write_private
from localcloud.identitypool import rolemapping
from localcloud.keys import KeyStore

STATE_FILE = "identity-pool.json"
FORMAT_VERSION = 1
AUTHENTICATED = "authenticated"
UNAUTHENTICATED = "unauthenticated"
# Expired credentials are kept a day so a request signed with them gets "expired", not "unknown".
_KEEP_EXPIRED = 86400
# GetCredentialsForIdentity's answer when the role that applies is missing (or STS would refuse it).
INVALID_CONFIGURATION = "Invalid identity pool configuration. Check assigned IAM roles for this pool."


class IdentityError(Exception):
    """A Cognito Identity error: ``{"__type", "message"}`` with an HTTP status."""

    def __init__(self, error_type: str, message: str, status: int = 400) -> None:
        """Keep the error type, message and status."""
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.status = status


def not_authorized(message: str) -> IdentityError:
    """NotAuthorizedException, Cognito's answer to every bad login."""
    return IdentityError("NotAuthorizedException", message)


@dataclass(frozen=True)
class Login:
    """A verified entry of Logins: the provider, the ID token's audience (client id) and claims."""

    provider: str
    claims: dict[str, Any]

    @property
    def key(self) -> str:
        """What identities are indexed by: "provider|sub"."""
        return f"{self.provider}|{self.claims['sub']}"

    @property
    def mapping_key(self) -> str:
        """RoleMappings' key for this login: "provider:clientId"."""
        return f"{self.provider}:{self.claims['aud']}"


@dataclass(frozen=True)
class Credentials:
    """Temporary credentials bound to one identity and one role."""

    access_key_id: str
    secret_key: str
    session_token: str
    identity_id: str
    role_arn: str
    kind: str
    expiration: float

    def to_api(self) -> dict[str, Any]:
        """GetCredentialsForIdentity's Credentials object (Expiration as epoch seconds)."""
        return {
            "AccessKeyId": self.access_key_id,
            "SecretKey": self.secret_key,
            "SessionToken": self.session_token,
            "Expiration": self.expiration,
        }


def _access_key_id() -> str:
    """An STS-style temporary key id: ASIA + 16 upper-case alphanumerics."""
    return "ASIA" + "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(16))


class IdentityPool:
    """One identity pool over the seeded user pool, for the clients the config lists (default web, spa)."""

    def __init__(
        self, config: Config, data_dir: Path, user_pool: Any, clients: Sequence[Any], keys: KeyStore
    ) -> None:
        """Load (or create) the state file and take the pool's settings from the config."""
        spec = config.identity_pool
        self.region = config.region
        self.name = str(spec.get("IdentityPoolName", "localcloud"))
        self.allow_unauthenticated = bool(spec.get("AllowUnauthenticatedIdentities", False))
        self.credentials_seconds = config.credentials_seconds
        self.keys = keys
        self.user_pool = user_pool
        # Cognito's provider name is the issuer without its scheme.
        # Every app client's ID tokens are accepted (the template's CognitoIdentityProviders).
        self.providers: dict[str, set[str]] = {
            f"cognito-idp.{user_pool.region}.amazonaws.com/{user_pool.id}": {client.id for client in clients}
        }
        # The account's IAM roles the pool may hand out (ARN → policy document): the pool's own two
        # and the further roles of the config's iam_roles (for role mappings).
        seeded = dict(spec.get("roles") or {})
        self.iam_roles: dict[str, dict[str, Any]] = {
            str(role["RoleArn"]): dict(role.get("Policy") or {})
            for role in (*seeded.values(), *config.iam_roles.values())
            if isinstance(role, dict) and "RoleArn" in role
        }
        # SetIdentityPoolRoles' two maps; the config's are (re)applied at every start.
        self.roles: dict[str, str] = {
            kind: str(role["RoleArn"]) for kind, role in seeded.items() if "RoleArn" in role
        }
        provider = next(iter(self.providers))
        # The seed's mappings, by ClientName: only the confidential web client's (its tokens are the
        # ones the app's checks and records stand behind); the public spa client has none, so its
        # tokens get the authenticated (member) role whatever their custom:role.
        self.role_mappings: dict[str, dict[str, Any]] = rolemapping.check_mappings(
            {
                f"{provider}:{client.id}": m
                for client in clients
                for m in config.role_mappings(client_name=str(client.extended_config.get("ClientName")))
            },
            self.mapping_names(),
            self.iam_roles,
        )
        self.path = data_dir / STATE_FILE
        self._lock = threading.RLock()
        self.id = ""
        self.identities: dict[str, dict[str, Any]] = {}
        self.by_login: dict[str, str] = {}
        self.credentials: dict[str, Credentials] = {}
        self._load()

    # --- persistence ----------------------------------------------------------------------------
    def _load(self) -> None:
        """Read the state file, or start a new pool with a fresh id."""
        if self.path.exists():
            data = json.loads(self.path.read_text())
            if data.get("version") != FORMAT_VERSION:
                raise ValueError(f"{self.path}: unknown format; run `python -m localcloud reset`")
            self.id = data["identity_pool_id"]
            self.identities = data["identities"]
            self.by_login = data["by_login"]
            self.credentials = {k: Credentials(**v) for k, v in data["credentials"].items()}
        if not self.id.startswith(f"{self.region}:"):
            # First start (or the config moved region): a new pool, as a new CreateIdentityPool would be.
            self.id = f"{self.region}:{uuid.uuid4()}"
            self.identities, self.by_login, self.credentials = {}, {}, {}
        self.save()

    def save(self) -> None:
        """Write the state atomically, dropping credentials long expired."""
        with self._lock:
            cutoff = time.time() - _KEEP_EXPIRED
            self.credentials = {k: c for k, c in self.credentials.items() if c.expiration > cutoff}
            data = {
                "version": FORMAT_VERSION,
                "identity_pool_id": self.id,
                "identities": self.identities,
                "by_login": self.by_login,
                "credentials": {k: asdict(c) for k, c in self.credentials.items()},
            }
            write_private(self.path, json.dumps(data, indent=1))

    # --- descriptions ------------------------------------------------------------------------------
    def describe(self) -> dict[str, Any]:
        """DescribeIdentityPool's shape."""
        return {
            "IdentityPoolId": self.id,
            "IdentityPoolName": self.name,
            "AllowUnauthenticatedIdentities": self.allow_unauthenticated,
            "AllowClassicFlow": False,
            "CognitoIdentityProviders": [
                {"ProviderName": name, "ClientId": client_id, "ServerSideTokenCheck": False}
                for name, clients in self.providers.items()
                for client_id in sorted(clients)
            ],
            "IdentityPoolTags": {},
        }

    def mapping_names(self) -> set[str]:
        """The provider names RoleMappings may use: "provider:clientId" for each configured client."""
        return {f"{name}:{client_id}" for name, clients in self.providers.items() for client_id in clients}

    def get_roles(self) -> dict[str, Any]:
        """GetIdentityPoolRoles' answer."""
        answer: dict[str, Any] = {"IdentityPoolId": self.id, "Roles": dict(self.roles)}
        if self.role_mappings:
            answer["RoleMappings"] = self.role_mappings
        return answer

    def set_roles(self, pool_id: object, roles: object, mappings: object) -> None:
        """SetIdentityPoolRoles: both maps replaced at once, after every check passed."""
        self._check_pool(pool_id)
        try:
            checked_roles = rolemapping.check_roles(roles, self.iam_roles)
            checked_mappings = rolemapping.check_mappings(mappings, self.mapping_names(), self.iam_roles)
        except rolemapping.MappingError as exc:
            raise IdentityError(exc.error_type, exc.message) from None
        with self._lock:
            self.roles, self.role_mappings = checked_roles, checked_mappings

    def policy_of(self, role_arn: str) -> dict[str, Any]:
        """The IAM policy document of a role (empty, so nothing is allowed, for an unknown one)."""
        return dict(self.iam_roles.get(role_arn) or {})

    # --- logins ------------------------------------------------------------------------------------
    def verify_logins(self, logins: object) -> list[Login]:
        """Check every ID token in Logins as Cognito does."""
        if not isinstance(logins, dict) or not logins:
            raise IdentityError("InvalidParameterException", "Logins must be a non-empty map")
        found = []
        for provider, token in logins.items():
            if not isinstance(provider, str) or not isinstance(token, str):
                raise IdentityError("InvalidParameterException", "Logins must be a map of strings")
            clients = self.providers.get(provider)
            if clients is None:
                raise not_authorized("Invalid login token. Issuer doesn't match providerName")
            found.append(Login(provider, self._verify_id_token(provider, clients, token)))
        return found

    def _verify_id_token(self, provider: str, clients: set[str], token: str) -> dict[str, Any]:
        """The claims of a valid ID token of this provider (AWS's checks, AWS's messages)."""
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except (jwt.PyJWTError, ValueError, TypeError):
            raise not_authorized("Invalid login token. Not a valid OpenId Connect identity token.") from None
        if unverified.get("iss") != f"https://{provider}":
            raise not_authorized("Invalid login token. Issuer doesn't match providerName")
        kid = header.get("kid")
        key = self.keys.public_key(kid) if isinstance(kid, str) else None
        if key is None or header.get("alg") != "RS256":
            raise not_authorized("Invalid login token. Couldn't verify signed token.")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=["RS256"],
                options={"verify_aud": False, "require": ["exp", "iat", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise not_authorized("Invalid login token. Token expired") from None
        except jwt.PyJWTError:
            raise not_authorized("Invalid login token. Couldn't verify signed token.") from None
        if claims.get("token_use") != "id" or claims.get("aud") not in clients:
            # An access token has no aud (client_id instead): Cognito refuses it the same way.
            raise not_authorized("Invalid login token. Incorrect token audience.")
        return claims

    # --- operations --------------------------------------------------------------------------------
    def _check_pool(self, pool_id: object) -> None:
        """ResourceNotFound unless pool_id names this pool."""
        if not isinstance(pool_id, str) or not pool_id:
            raise IdentityError("InvalidParameterException", "IdentityPoolId is required")
        if pool_id != self.id:
            raise IdentityError("ResourceNotFoundException", f"IdentityPool '{pool_id[:64]}' not found.")

    def get_id(self, pool_id: object, logins: object) -> str:
        """GetId: the stable identity of a login, or a new guest identity without Logins."""
        self._check_pool(pool_id)
        with self._lock:
            if not logins:
                if not self.allow_unauthenticated:
                    raise not_authorized("Unauthenticated access is not supported for this identity pool.")
                identity_id = self._new_identity(UNAUTHENTICATED, [])
            else:
                keys = [login.key for login in self.verify_logins(logins)]
                identity_id = next((self.by_login[k] for k in keys if k in self.by_login), "")
                if not identity_id:
                    identity_id = self._new_identity(AUTHENTICATED, keys)
            self.save()
            return identity_id

    def _new_identity(self, kind: str, logins: list[str]) -> str:
        """Create and index an identity."""
        identity_id = f"{self.region}:{uuid.uuid4()}"
        self.identities[identity_id] = {"kind": kind, "logins": logins, "created": time.time()}
        for key in logins:
            self.by_login[key] = identity_id
        return identity_id

    def credentials_for(
        self, identity_id: object, logins: object, custom_role_arn: object = None
    ) -> Credentials:
        """GetCredentialsForIdentity: fresh credentials for the role the pool's settings give."""
        if not isinstance(identity_id, str) or not identity_id:
            raise IdentityError("InvalidParameterException", "IdentityId is required")
        custom = custom_role_arn if isinstance(custom_role_arn, str) else None
        with self._lock:
            identity = self.identities.get(identity_id)
            if identity is None:
                raise IdentityError("ResourceNotFoundException", f"Identity '{identity_id[:64]}' not found.")
            kind = identity["kind"]
            if kind == AUTHENTICATED:
                role_arn = self._authenticated_role(identity_id, logins, custom)
            else:
                role_arn = self._guest_role(logins, custom)
            if role_arn is None or role_arn not in self.iam_roles:
                raise IdentityError("InvalidIdentityPoolConfigurationException", INVALID_CONFIGURATION)
            credentials = Credentials(
                access_key_id=_access_key_id(),
                secret_key=secrets.token_urlsafe(30)[:40],
                session_token=secrets.token_urlsafe(180),
                identity_id=identity_id,
                role_arn=role_arn,
                kind=kind,
                expiration=float(int(time.time()) + self.credentials_seconds),
            )
            self.credentials[credentials.access_key_id] = credentials
            self.save()
            return credentials

    def _authenticated_role(self, identity_id: str, logins: object, custom: str | None) -> str | None:
        """The role of a signed-in identity: its logins checked, then the provider's role mapping."""
        if not logins:
            raise not_authorized(f"Access to Identity '{identity_id}' is forbidden.")
        verified = self.verify_logins(logins)
        # Every login must be valid AND belong to this identity (not another user's).
        if any(self.by_login.get(login.key) != identity_id for login in verified):
            raise not_authorized(
                "Logins don't match. Please include at least one valid login for this identity "
                "or identity pool."
            )
        login = verified[0]  # one provider (the user pool) is configured
        try:
            return rolemapping.resolve_role(
                mapping=self.role_mappings.get(login.mapping_key),
                claims=login.claims,
                authenticated_role=self.roles.get(AUTHENTICATED),
                custom_role_arn=custom,
                provider=login.provider,
            )
        except rolemapping.MappingError as exc:
            raise IdentityError(exc.error_type, exc.message) from None

    def _guest_role(self, logins: object, custom: str | None) -> str | None:
        """The unauthenticated role (no CustomRoleArn but that one: a guest has no token to allow more)."""
        if logins:
            # AWS would link the login to the guest identity; localcloud keeps them apart.
            raise not_authorized("Logins don't match: this is an unauthenticated identity.")
        if not self.allow_unauthenticated:
            raise not_authorized("Unauthenticated access is not supported for this identity pool.")
        role_arn = self.roles.get(UNAUTHENTICATED)
        if custom is not None and custom != role_arn:
            # A guest has no token that could allow another role (AWS's exact answer unconfirmed).
            refused = rolemapping.forbidden_role(custom)
            raise IdentityError(refused.error_type, refused.message)
        return role_arn

    def lookup(self, access_key_id: str) -> Credentials | None:
        """Issued credentials by key id (expired ones included, for the right error)."""
        return self.credentials.get(access_key_id)

    def describe_identity(self, identity_id: object) -> dict[str, Any]:
        """DescribeIdentity's shape."""
        identity = self.identities.get(identity_id) if isinstance(identity_id, str) else None
        if identity is None:
            raise IdentityError("ResourceNotFoundException", f"Identity '{str(identity_id)[:64]}' not found.")
        return {
            "IdentityId": identity_id,
            "Logins": sorted({k.split("|", 1)[0] for k in identity["logins"]}),
            "CreationDate": identity["created"],
            "LastModifiedDate": identity["created"],
        }
