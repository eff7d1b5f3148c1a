"""The cognito-identity JSON API (``X-Amz-Target: AWSCognitoIdentityService.<Op>``), unsigned.

localcloud answers every operation on its one seeded pool itself (moto's GetId accepts any token
and its credentials are fixed strings); operations it does not emulate get Cognito's error shape.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from werkzeug.wrappers import Response

from localcloud.awsjson import error_response, json_response
from localcloud.identitypool.pool import IdentityError, IdentityPool

TARGET_PREFIX = "AWSCognitoIdentityService."
Handler = Callable[[IdentityPool, dict[str, Any]], dict[str, Any]]


def _get_id(pool: IdentityPool, params: dict[str, Any]) -> dict[str, Any]:
    """GetId."""
    return {"IdentityId": pool.get_id(params.get("IdentityPoolId"), params.get("Logins"))}


def _get_credentials(pool: IdentityPool, params: dict[str, Any]) -> dict[str, Any]:
    """GetCredentialsForIdentity."""
    credentials = pool.credentials_for(
        params.get("IdentityId"), params.get("Logins"), params.get("CustomRoleArn")
    )
    return {"IdentityId": credentials.identity_id, "Credentials": credentials.to_api()}


def _describe_pool(pool: IdentityPool, params: dict[str, Any]) -> dict[str, Any]:
    """DescribeIdentityPool."""
    pool._check_pool(params.get("IdentityPoolId"))
    return pool.describe()


def _list_pools(pool: IdentityPool, params: dict[str, Any]) -> dict[str, Any]:
    """ListIdentityPools (the one pool)."""
    return {"IdentityPools": [{"IdentityPoolId": pool.id, "IdentityPoolName": pool.name}]}


def _get_roles(pool: IdentityPool, params: dict[str, Any]) -> dict[str, Any]:
    """GetIdentityPoolRoles."""
    pool._check_pool(params.get("IdentityPoolId"))
    return pool.get_roles()


def _set_roles(pool: IdentityPool, params: dict[str, Any]) -> dict[str, Any]:
    """SetIdentityPoolRoles (empty answer)."""
    pool.set_roles(params.get("IdentityPoolId"), params.get("Roles"), params.get("RoleMappings"))
    return {}


def _describe_identity(pool: IdentityPool, params: dict[str, Any]) -> dict[str, Any]:
    """DescribeIdentity."""
    return pool.describe_identity(params.get("IdentityId"))


def _list_identities(pool: IdentityPool, params: dict[str, Any]) -> dict[str, Any]:
    """ListIdentities (no paging: a development pool is small)."""
    pool._check_pool(params.get("IdentityPoolId"))
    return {
        "IdentityPoolId": pool.id,
        "Identities": [pool.describe_identity(identity_id) for identity_id in pool.identities],
    }


HANDLERS: dict[str, Handler] = {
    "GetId": _get_id,
    "GetCredentialsForIdentity": _get_credentials,
    "DescribeIdentityPool": _describe_pool,
    "ListIdentityPools": _list_pools,
    "GetIdentityPoolRoles": _get_roles,
    "SetIdentityPoolRoles": _set_roles,
    "DescribeIdentity": _describe_identity,
    "ListIdentities": _list_identities,
}


def handle(pool: IdentityPool, operation: str, params: dict[str, Any]) -> Response:
    """Run one operation; Cognito-shaped errors for anything wrong."""
    handler = HANDLERS.get(operation)
    if handler is None:
        return error_response(
            "UnsupportedOperationException", f"localcloud does not emulate cognito-identity {operation[:64]}"
        )
    try:
        return json_response(handler(pool, params))
    except IdentityError as exc:
        return error_response(exc.error_type, exc.message, exc.status)
