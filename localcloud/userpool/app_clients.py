"""CreateUserPoolClient and UpdateUserPoolClient: what Cognito checks beyond the botocore model.

moto stores whatever an app client is given; Cognito refuses, with InvalidParameterException:
- a CallbackURLs entry or DefaultRedirectURI that is not an absolute URI, has a fragment, or is
  plain http anywhere but localhost ("Amazon Cognito requires HTTPS over HTTP except for
  http://localhost"; app schemes such as myapp://cb are taken), and a DefaultRedirectURI that is not
  one of the CallbackURLs;
- a token validity out of its range once its unit is applied: access and ID tokens 5 minutes to
  1 day, refresh tokens 60 minutes to 10 years ("Invalid range for token validity.");
- a SupportedIdentityProviders name that is neither COGNITO nor one of the pool's providers
  ("The provider Nope does not exist for User Pool ...");
- a ReadAttributes or WriteAttributes name the pool's schema does not have ("Invalid read
  attributes specified while creating a client").
The units themselves (seconds, minutes, hours, days) are the model's enum (validation.py). Both
operations then go to moto, which answers (an unknown pool or client included). An update that
leaves AuthSessionValidity out puts it back to Cognito's default (3), as AWS resets what an update
leaves out; moto merges every other setting into the stored ones (README).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from moto.cognitoidp.exceptions import InvalidParameterException

from localcloud.userpool import backend as bk
from localcloud.userpool import services as sv
from localcloud.userpool.api import op
from localcloud.userpool.models import LocalUserPool

# Cognito's ranges in seconds, and the unit a validity is in when TokenValidityUnits names none.
_MINUTE, _HOUR, _DAY = 60, 3600, 86400
VALIDITY_RANGES = {
    "AccessToken": (5 * _MINUTE, _DAY, "hours"),
    "IdToken": (5 * _MINUTE, _DAY, "hours"),
    "RefreshToken": (60 * _MINUTE, 3650 * _DAY, "days"),
}
UNIT_SECONDS = {"seconds": 1, "minutes": _MINUTE, "hours": _HOUR, "days": _DAY}
# http is taken for these hosts only (the docs name http://localhost).
LOCAL_HOSTS = {"localhost"}


def check_redirect_uri(url: str, what: str) -> None:
    """InvalidParameterException unless url is a redirect URI Cognito accepts."""
    parts = urlsplit(url)
    if not parts.scheme or "#" in url:
        raise InvalidParameterException(f"{what} {url} is not an absolute URI without a fragment.")
    if parts.scheme.lower() == "http" and (parts.hostname or "") not in LOCAL_HOSTS:
        raise InvalidParameterException(
            f"{what} {url} must use HTTPS: Amazon Cognito takes http only for http://localhost."
        )
    if parts.scheme.lower() in ("http", "https") and not parts.hostname:
        raise InvalidParameterException(f"{what} {url} is not an absolute URI without a fragment.")


def _check_urls(params: dict[str, Any]) -> None:
    """CallbackURLs and DefaultRedirectURI (the model has checked their types)."""
    callbacks = params.get("CallbackURLs") or []
    for url in callbacks:
        check_redirect_uri(url, "Callback URL")
    default = params.get("DefaultRedirectURI")
    if default is not None:
        check_redirect_uri(default, "DefaultRedirectURI")
        if default not in callbacks:
            raise InvalidParameterException("DefaultRedirectURI must be one of the CallbackURLs.")


def _check_validities(params: dict[str, Any]) -> None:
    """Each token validity within Cognito's range in its unit."""
    units = params.get("TokenValidityUnits") or {}
    for kind, (low, high, default_unit) in VALIDITY_RANGES.items():
        value = params.get(f"{kind}Validity")
        if value is None or (kind == "RefreshToken" and value == 0):
            continue  # left out, or 0 (the model's minimum for a refresh token): Cognito's default
        unit = UNIT_SECONDS.get(units.get(kind) or default_unit)  # the enum is checked before
        if unit is None or not low <= value * unit <= high:
            raise InvalidParameterException("Invalid range for token validity.")


def _check_providers(pool: LocalUserPool, params: dict[str, Any]) -> None:
    """SupportedIdentityProviders: COGNITO or a provider of the pool."""
    for name in params.get("SupportedIdentityProviders") or []:
        if name != "COGNITO" and name not in pool.identity_providers:
            raise InvalidParameterException(f"The provider {name} does not exist for User Pool {pool.id}")


def _check_attributes(pool: LocalUserPool, params: dict[str, Any], doing: str) -> None:
    """ReadAttributes and WriteAttributes: names the pool's schema has."""
    known = sv.schema_names(pool)
    for key, kind in (("ReadAttributes", "read"), ("WriteAttributes", "write")):
        if any(name not in known for name in params.get(key) or []):
            raise InvalidParameterException(f"Invalid {kind} attributes specified while {doing} a client")


def _check(pool: LocalUserPool | None, params: dict[str, Any], doing: str) -> None:
    """Every check above; those that need the pool only when it exists (else moto's answer)."""
    _check_urls(params)
    _check_validities(params)
    if pool is not None:
        _check_providers(pool, params)
        _check_attributes(pool, params, doing)


@op("CreateUserPoolClient")
def create_user_pool_client(params: dict[str, Any]) -> None:
    """Refuse what Cognito refuses; moto creates the client."""
    _check(bk.pool_by_id(str(params.get("UserPoolId", ""))), params, "creating")


@op("UpdateUserPoolClient")
def update_user_pool_client(params: dict[str, Any]) -> None:
    """Refuse what Cognito refuses; AuthSessionValidity left out goes back to 3; moto updates."""
    pool = bk.pool_by_id(str(params.get("UserPoolId", "")))
    _check(pool, params, "updating")
    client = pool.clients.get(params.get("ClientId")) if pool is not None else None
    if client is not None and params.get("AuthSessionValidity") is None:
        client.extended_config["AuthSessionValidity"] = sv.AUTH_SESSION_MINUTES
