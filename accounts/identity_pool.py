"""Amazon Cognito identity pool: ID tokens (or nobody, for guests) traded for temporary AWS credentials.

The one module that talks to the identity pool. Enhanced (simplified) flow: GetId, then
GetCredentialsForIdentity; neither call is IAM-signed (reference §4). The endpoint comes from
settings, so the same code talks to AWS or to the local stack.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import boto3
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

_lock = threading.Lock()
_clients: dict[str, Any] = {}


class IdentityPoolError(Exception):
    """Base of every failure talking to the identity pool."""


class IdentityPoolUnavailable(IdentityPoolError):
    """The identity pool could not be reached, timed out or answered with a server error."""


class LoginRefused(IdentityPoolError):
    """The identity pool refused the login (expired or foreign ID token, guests disabled...)."""


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


def _client():
    """One unsigned cognito-identity client per process (thread-safe; slow to build)."""
    client = _clients.get("identity")
    if client is None:
        with _lock:
            client = _clients.get("identity")
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
                _clients["identity"] = client
    return client


def _call(operation: str, **kwargs: Any) -> dict[str, Any]:
    try:
        return getattr(_client(), operation)(**kwargs)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code, message = error.get("Code", ""), error.get("Message", "")
        if code in ("NotAuthorizedException", "ResourceNotFoundException", "InvalidParameterException"):
            raise LoginRefused(f"{code}: {message}") from exc
        raise IdentityPoolUnavailable(f"{operation}: {code} {message}") from exc
    except BotoCoreError as exc:
        raise IdentityPoolUnavailable(f"{operation}: {exc}") from exc


def _logins(id_token: str | None) -> dict[str, str]:
    return {provider_name(): id_token} if id_token else {}


def get_id(*, id_token: str | None) -> str:
    """GetId: the user's stable identity id for an ID token, or a new guest identity without one."""
    return str(_call("get_id", IdentityPoolId=pool_id(), Logins=_logins(id_token))["IdentityId"])


def get_credentials(*, identity_id: str, id_token: str | None) -> Credentials:
    """GetCredentialsForIdentity: one hour of credentials for the identity's role."""
    answer = _call("get_credentials_for_identity", IdentityId=identity_id, Logins=_logins(id_token))
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
