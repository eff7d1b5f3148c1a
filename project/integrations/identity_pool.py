"""Amazon Cognito identity pool: ID tokens (or nobody, for guests) traded for temporary AWS credentials.

The one module that talks to the identity pool. Enhanced (simplified) flow: GetId, then
GetCredentialsForIdentity; neither call is IAM-signed (reference §4). The endpoint comes from
settings, so the same code talks to AWS or to the local stack. `identity_pool()` is the process's
one `IdentityPool`.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import boto3
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from project.integrations import outbound

logger = logging.getLogger(__name__)


class IdentityPoolError(Exception):
    """Base of every failure talking to the identity pool."""


class IdentityPoolUnavailable(IdentityPoolError):
    """The identity pool could not be reached, timed out or answered with a server error."""


class LoginRefused(IdentityPoolError):
    """The identity pool refused the login (expired or foreign ID token, guests disabled...)."""


class RoleDenied(LoginRefused):
    """The login is valid but the pool's role mapping gives it no role (AmbiguousRoleResolution Deny)."""


# Cognito's message when a role mapping's Deny applies (NotAuthorizedException).
_DENIED = "ambiguous role mapping rules for:"


@dataclass(frozen=True)
class Credentials:
    """Temporary AWS credentials of one identity (a user's or a guest's)."""

    identity_id: str
    access_key: str
    secret_key: str
    session_token: str
    expiration: float  # epoch seconds

    def as_dict(self) -> dict[str, Any]:
        return {
            "identity_id": self.identity_id,
            "access_key": self.access_key,
            "secret_key": self.secret_key,
            "session_token": self.session_token,
            "expiration": self.expiration,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Credentials:
        return cls(
            identity_id=str(data["identity_id"]),
            access_key=str(data["access_key"]),
            secret_key=str(data["secret_key"]),
            session_token=str(data["session_token"]),
            expiration=float(data["expiration"]),
        )


def pool_id() -> str:
    if not settings.COGNITO_IDENTITY_POOL_ID:
        raise ImproperlyConfigured("COGNITO_IDENTITY_POOL_ID is not set (see .env.example)")
    return settings.COGNITO_IDENTITY_POOL_ID


def provider_name() -> str:
    """The Logins key: the user pool as a provider of the identity pool."""
    return f"cognito-idp.{settings.COGNITO_REGION}.amazonaws.com/{settings.COGNITO_USER_POOL_ID}"


def _logins(id_token: str | None) -> dict[str, str]:
    return {provider_name(): id_token} if id_token else {}


class IdentityPool:
    """The identity pool's unsigned client and the process's guest credentials.

    The client is built on first use (boto3 clients are thread-safe; building one is slow). The
    guest credentials are one guest identity per process, for anonymous visitors and the JSON
    API (see `guest_credentials`). Thread-safe; `reset()` forgets both.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._guest_lock = threading.Lock()
        self._client: Any = None
        self._guest: Credentials | None = None

    def reset(self) -> None:
        """Forget the client and the guest credentials (tests; after settings change)."""
        with self._lock:
            self._client = None
        with self._guest_lock:
            self._guest = None

    def _get_client(self) -> Any:
        client = self._client
        if client is None:
            with self._lock:
                client = self._client
                if client is None:
                    client = boto3.session.Session().client(
                        "cognito-identity",
                        region_name=pool_id().split(":", 1)[0],
                        endpoint_url=settings.AWS_ENDPOINT_URL,
                        config=Config(
                            signature_version=UNSIGNED,  # GetId / GetCredentialsForIdentity are unsigned
                            connect_timeout=settings.AWS_TIMEOUT,
                            read_timeout=settings.AWS_TIMEOUT,
                            retries={"max_attempts": 2, "mode": "standard"},
                        ),
                    )
                    self._client = outbound.observe_client(client)
        return client

    def _call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        try:
            return getattr(self._get_client(), operation)(**kwargs)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code, message = error.get("Code", ""), error.get("Message", "")
            if code == "NotAuthorizedException" and _DENIED in message:
                raise RoleDenied(f"{code}: {message}") from exc
            if code in ("NotAuthorizedException", "ResourceNotFoundException", "InvalidParameterException"):
                raise LoginRefused(f"{code}: {message}") from exc
            raise IdentityPoolUnavailable(f"{operation}: {code} {message}") from exc
        except BotoCoreError as exc:
            raise IdentityPoolUnavailable(f"{operation}: {exc}") from exc

    def get_id(self, *, id_token: str | None) -> str:
        """GetId: the user's stable identity id for an ID token, or a new guest identity without one."""
        return str(self._call("get_id", IdentityPoolId=pool_id(), Logins=_logins(id_token))["IdentityId"])

    def get_credentials(self, *, identity_id: str, id_token: str | None) -> Credentials:
        """GetCredentialsForIdentity: one hour of credentials for the identity's role."""
        answer = self._call("get_credentials_for_identity", IdentityId=identity_id, Logins=_logins(id_token))
        creds = answer["Credentials"]
        expiration = creds["Expiration"]
        if isinstance(expiration, datetime):
            expiration = expiration.timestamp()
        return Credentials(
            identity_id=str(answer.get("IdentityId") or identity_id),
            access_key=creds["AccessKeyId"],
            secret_key=creds["SecretKey"],
            session_token=creds["SessionToken"],
            expiration=float(expiration),
        )

    def guest_credentials(self, *, margin: float) -> Credentials:
        """The process-wide guest identity's credentials, renewed `margin` seconds before expiry.

        The same identity id is kept across renewals. Raises IdentityPoolError or
        ImproperlyConfigured when none can be had.
        """
        # Held across the calls: concurrent cold requests make one guest identity, not several.
        with self._guest_lock:
            current = self._guest
            if current is not None and current.expiration - time.time() > margin:
                return current
            identity_id = current.identity_id if current else self.get_id(id_token=None)
            self._guest = self.get_credentials(identity_id=identity_id, id_token=None)
            return self._guest


_identity_pool = IdentityPool()


def identity_pool() -> IdentityPool:
    """The process's one identity-pool client."""
    return _identity_pool
