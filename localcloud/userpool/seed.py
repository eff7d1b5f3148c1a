"""Create (first start) or re-sync (later starts) the pool, client, groups and users from config."""

from __future__ import annotations

import secrets
import string
from typing import Any

from moto.cognitoidp.models import CognitoIdpUser, CognitoIdpUserPoolClient, UserStatus

from localcloud import moto_adapter as moto
from localcloud.config import Config
from localcloud.idp.catalog import for_provider
from localcloud.idp.credentials import Credentials
from localcloud.userpool import backend as bk
from localcloud.userpool.models import LocalUserPool

# Settings of the client that may change in the config without new ids (URLs, validities...).
_CLIENT_IMMUTABLE = {"ClientName", "GenerateSecret"}


def _client_secret() -> str:
    """A secret shaped like Cognito's (51 lowercase alphanumerics)."""
    return "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(51))


def client_named(pool: LocalUserPool, name: str) -> CognitoIdpUserPoolClient | None:
    """The pool's app client called name, or None."""
    return next((c for c in pool.clients.values() if c.extended_config.get("ClientName") == name), None)


def _client(
    pool: LocalUserPool, region_backend: Any, client_params: dict[str, Any]
) -> CognitoIdpUserPoolClient:
    """Create an app client (a secret only when GenerateSecret), or re-sync its settings."""
    client = client_named(pool, client_params["ClientName"])
    if client is None:
        settings = {k: v for k, v in client_params.items() if k != "GenerateSecret"}
        generate = bool(client_params.get("GenerateSecret"))
        client = region_backend.create_user_pool_client(pool.id, generate, settings)
        if generate:
            client.secret = _client_secret()
    client.extended_config.update({k: v for k, v in client_params.items() if k not in _CLIENT_IMMUTABLE})
    return client


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

    client = _client(pool, region_backend, config.app_client)
    if config.spa_client:
        _client(pool, region_backend, config.spa_client)

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


def seed_identity_providers(config: Config, pool: LocalUserPool, credentials: Credentials) -> None:
    """Create or re-sync the seeded external providers (CreateIdentityProvider shapes).

    A provider a fake stands in for gets the fake's secrets from the data dir (idp.json), so no
    secret is kept in the config: Google/Facebook/OIDC a client secret, Apple the developer key.
    """
    region_backend = bk.backend(config.region)
    for spec in config.identity_providers:
        name = spec["ProviderName"]
        details = dict(spec.get("ProviderDetails") or {})
        fake = for_provider(spec.get("ProviderType", ""), details)
        if fake is not None and fake.slug == "apple":
            key = credentials.apple_key
            details.update({"private_key": key["pem"], "key_id": key["key_id"], "team_id": key["team_id"]})
        elif fake is not None:
            details["client_secret"] = credentials.client_secrets[fake.slug]
        settings = {k: v for k, v in spec.items() if k != "ProviderName" and not k.startswith("_")}
        settings["ProviderDetails"] = details
        if name in pool.identity_providers:
            pool.identity_providers[name].extended_config.update(settings)
        else:
            region_backend.create_identity_provider(pool.id, name, settings)
