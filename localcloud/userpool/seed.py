"""Create (first start) or re-sync (later starts) the pool, client, groups and users from config."""

from __future__ import annotations

import secrets
import string
from typing import Any

from moto.cognitoidp.models import CognitoIdpUser, CognitoIdpUserPoolClient, UserStatus

from localcloud import moto_adapter as moto
from localcloud.config import Config
from localcloud.userpool import backend as bk
from localcloud.userpool.models import LocalUserPool

# Settings of the client that may change in the config without new ids (URLs, validities...).
_CLIENT_IMMUTABLE = {"ClientName", "GenerateSecret"}


def _client_secret() -> str:
    """A secret shaped like Cognito's (51 lowercase alphanumerics)."""
    return "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(51))


def seed(config: Config) -> tuple[LocalUserPool, CognitoIdpUserPoolClient]:
    """Ensure the configured pool exists; return it and the app client."""
    region_backend = bk.backend(config.region)
    pool_params: dict[str, Any] = config.user_pool
    name = pool_params.pop("PoolName")
    token_mfa = pool_params.pop("SoftwareTokenMfaConfiguration", None)
    pool = next((p for p in region_backend.user_pools.values() if p.name == name), None)
    if pool is None:
        pool = region_backend.create_user_pool(name, pool_params)
        if not isinstance(pool, LocalUserPool):
            raise RuntimeError("localcloud.userpool.models.install() was not called")
    pool.mfa_config = pool_params.get("MfaConfiguration", "OFF")
    pool.token_mfa_config = token_mfa
    pool.extended_config["Policies"] = pool_params.get("Policies", pool.extended_config["Policies"])
    pool.extended_config["UserAttributeUpdateSettings"] = pool_params.get("UserAttributeUpdateSettings") or {}

    client_params = config.app_client
    client = next(
        (
            c
            for c in pool.clients.values()
            if c.extended_config.get("ClientName") == client_params["ClientName"]
        ),
        None,
    )
    if client is None:
        settings = {k: v for k, v in client_params.items() if k != "GenerateSecret"}
        client = region_backend.create_user_pool_client(
            pool.id, bool(client_params.get("GenerateSecret")), settings
        )
        client.secret = _client_secret()
    client.extended_config.update({k: v for k, v in client_params.items() if k not in _CLIENT_IMMUTABLE})

    for group in config.groups:
        if group["GroupName"] not in pool.groups:
            region_backend.create_group(
                pool.id, group["GroupName"], group.get("Description", ""),
                group.get("RoleArn"), group.get("Precedence"),
            )  # fmt: skip

    for spec in config.users:
        if moto.get_user(pool, spec["username"]) is not None:
            continue  # never overwrite what a developer changed in a running stack
        attrs = {"email": spec["username"], **spec.get("attributes", {})}
        user = CognitoIdpUser(
            pool.id, None, spec["password"], UserStatus.CONFIRMED,
            [{"Name": k, "Value": v} for k, v in attrs.items()],
        )  # fmt: skip
        pool.users[user.username] = user
        for group_name in spec.get("groups", []):
            group = pool.groups[group_name]
            group.users.add(user)
            user.groups.add(group)
    return pool, client
