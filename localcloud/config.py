"""The seed configuration file (localcloud/config.json and test variants of the same shape)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_CONFIG = Path(__file__).with_name("config.json")

# Cognito's managed-login branding, reduced to what the hosted pages use; config.json sets the app's.
DEFAULT_BRANDING: dict[str, Any] = {
    "app_name": "localcloud",
    "logo": None,  # an SVG, PNG or JPEG file, relative to localcloud/ (Cognito stores the bytes)
    "colors": {
        "accent": "#0b5fff",
        "accent_text": "#ffffff",
        "text": "#1d2733",
        "muted": "#515c69",
        "background": "#f6f8fa",
        "card": "#ffffff",
        "border": "#6b7683",
        "error": "#a40000",
    },
    "font": 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
}

# Cognito's TokenValidityUnits, in seconds.
_UNIT_SECONDS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}
# Cognito's defaults when a client leaves a validity out: 60 min, 60 min, 30 days.
_DEFAULTS = {"AccessToken": (60, "minutes"), "IdToken": (60, "minutes"), "RefreshToken": (30, "days")}


def token_validity_seconds(client_config: dict[str, Any], token: str) -> int:
    """Lifetime of AccessToken/IdToken/RefreshToken in seconds from a client's settings."""
    default_value, default_unit = _DEFAULTS[token]
    value = client_config.get(f"{token}Validity") or default_value
    unit = (client_config.get("TokenValidityUnits") or {}).get(token, default_unit)
    return int(value) * _UNIT_SECONDS[unit]


def deep_merge(base: Any, override: Any) -> Any:
    """Objects merge key by key (recursively); anything else, lists included, is replaced."""
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = deep_merge(base[key], value) if key in base else value
        return merged
    return override


def from_template(path: Path, parameters: dict[str, str] | None = None) -> dict[str, Any]:
    """The config a CloudFormation template describes (localcloud/template/); TemplateError if it cannot."""
    from localcloud.template.seed import config_from_template

    return config_from_template(path, parameters)


def _read_with_extends(path: Path, seen: tuple[Path, ...]) -> dict[str, Any]:
    """A config file merged over the file its "extends" (or "template") names (relative to its folder)."""
    resolved = path.resolve()
    if resolved in seen:
        raise ValueError(f'{path}: circular "extends"')
    with path.open() as fh:
        raw = json.load(fh)
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: a config file is a JSON object")
    template = raw.pop("template", None)
    parameters = raw.pop("parameters", None)
    if template is not None:
        if "extends" in raw:
            raise ValueError(f'{path}: "template" and "extends" exclude each other')
        if not isinstance(template, str) or not isinstance(parameters or {}, dict):
            raise ValueError(f'{path}: "template" is a path and "parameters" an object of strings')
        base = from_template(resolved.parent / template, parameters)
        base.pop("_comment", None)
        return deep_merge(base, raw)
    if parameters is not None:
        raise ValueError(f'{path}: "parameters" goes with "template"')
    parent = raw.pop("extends", None)
    if parent is None:
        return raw
    if not isinstance(parent, str):
        raise ValueError(f'{path}: "extends" must be a path')
    base = _read_with_extends(resolved.parent / parent, (*seen, resolved))
    # The overriding file's own comment describes the result; the base's would mislead.
    base.pop("_comment", None)
    return deep_merge(base, raw)


class ConfigError(ValueError):
    """A seed setting localcloud refuses (start-up stops with the message, as for a template's)."""


def _whole_number(value: Any) -> int | None:
    """An integer setting as CloudFormation takes it: a JSON integer or an integer-valued string
    ("5": a Number parameter's Ref resolves to a string); None for anything else (true, 7.5, "abc")."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and re.fullmatch(r"[+-]?[0-9]{1,9}", value.strip()):
        return int(value)
    return None


def _check_clients(raw: dict[str, Any], path: Path) -> None:
    """ConfigError for an app client setting Cognito would refuse that the seed honours.

    The seed hands the client's settings to moto as they are, so what CreateUserPoolClient checks
    (the botocore model) is checked here: AuthSessionValidity is whole minutes, 3 to 15. A quoted
    number ("5", as a template's Number parameter gives it) is taken, as for the token validities,
    and stored as the number (DescribeUserPoolClient answers 5, as AWS does).
    """
    for key in ("app_client", "spa_client"):
        client = raw.get(key) or {}
        given = client.get("AuthSessionValidity") if isinstance(client, dict) else None
        if given is None:
            continue
        minutes = _whole_number(given)
        if minutes is None or not 3 <= minutes <= 15:
            raise ConfigError(
                f"{path}: {key}.AuthSessionValidity must be whole minutes from 3 to 15, not {given!r}"
            )
        client["AuthSessionValidity"] = minutes


def _check_passwordless(raw: dict[str, Any], path: Path) -> None:
    """ConfigError unless passwordless.code_seconds is absent, null or whole seconds (0 or more)."""
    section = raw.get("passwordless")
    if section is None:
        return
    if not isinstance(section, dict):
        raise ConfigError(f'{path}: "passwordless" must be an object')
    given = section.get("code_seconds")
    if given is None:
        return
    seconds = _whole_number(given)
    if seconds is None or seconds < 0:
        raise ConfigError(
            f"{path}: passwordless.code_seconds must be whole seconds (0 or more) or null, not {given!r}"
        )
    section["code_seconds"] = seconds


def _check_policies(raw: dict[str, Any], path: Path) -> None:
    """PolicyError for a role policy localcloud cannot evaluate as IAM does (named by its place)."""
    from localcloud.s3 import policy

    roles = {
        f"identity_pool.roles.{k}": v
        for k, v in ((raw.get("identity_pool") or {}).get("roles") or {}).items()
    }
    roles |= {f"iam_roles.{k}": v for k, v in (raw.get("iam_roles") or {}).items()}
    for where, role in roles.items():
        if isinstance(role, dict) and "Policy" in role:
            policy.check(role["Policy"], f"{path}: {where}")


@dataclass(frozen=True)
class Config:
    """Parsed seed config; the raw dict keeps the CreateUserPool/CreateUserPoolClient shapes."""

    raw: dict[str, Any]
    path: Path

    @classmethod
    def load(cls, path: Path | None = None) -> Config:
        """Read (following "extends" or "template") and minimally validate a config file."""
        path = path or DEFAULT_CONFIG
        return cls._checked(_read_with_extends(path, seen=()), path)

    @classmethod
    def load_template(cls, path: Path, parameters: dict[str, str] | None = None) -> Config:
        """The config a CloudFormation template describes (no demo users)."""
        return cls._checked(from_template(path, parameters), path)

    @classmethod
    def _checked(cls, raw: dict[str, Any], path: Path) -> Config:
        for key in ("region", "user_pool", "app_client"):
            if key not in raw:
                raise ValueError(f"{path}: missing top-level key {key!r}")
        _check_clients(raw, path)
        _check_passwordless(raw, path)
        _check_policies(raw, path)
        return cls(raw=raw, path=path)

    @property
    def region(self) -> str:
        """AWS region of the seeded pool."""
        return str(self.raw["region"])

    @property
    def user_pool(self) -> dict[str, Any]:
        """CreateUserPool parameters (PoolName included)."""
        return {k: v for k, v in self.raw["user_pool"].items() if not k.startswith("_")}

    @property
    def app_client(self) -> dict[str, Any]:
        """CreateUserPoolClient parameters (ClientName, GenerateSecret included)."""
        return {k: v for k, v in self.raw["app_client"].items() if not k.startswith("_")}

    @property
    def spa_client(self) -> dict[str, Any] | None:
        """CreateUserPoolClient parameters of the public single-page-app client, or None."""
        raw = self.raw.get("spa_client")
        return {k: v for k, v in raw.items() if not k.startswith("_")} if raw else None

    @property
    def email_code_seconds(self) -> int | None:
        """Lifetime of an e-mailed sign-in code (None: as long as its session; tests shorten it)."""
        value = (self.raw.get("passwordless") or {}).get("code_seconds")
        return None if value is None else int(value)

    @property
    def limits(self) -> dict[str, int | None]:
        """Capacities of the in-memory tables (None: the built-in 100,000; tests make them small):
        max_send_records (send_limit.py), max_challenge_sessions (services._forget_old_sessions)."""
        raw = self.raw.get("limits") or {}
        return {
            key: None if raw.get(key) is None else int(raw[key])
            for key in ("max_send_records", "max_challenge_sessions")
        }

    @property
    def groups(self) -> list[dict[str, Any]]:
        """CreateGroup parameters for each seeded group."""
        return list(self.raw.get("groups", []))

    @property
    def users(self) -> list[dict[str, Any]]:
        """Seeded users: username, password, attributes, groups."""
        return list(self.raw.get("users", []))

    @property
    def authorization_code_seconds(self) -> int:
        """Lifetime of an authorization code (Cognito: 5 minutes)."""
        return int(self.raw.get("hosted_ui", {}).get("authorization_code_seconds", 300))

    @property
    def session_seconds(self) -> int:
        """Lifetime of the hosted-UI session cookie (Cognito: 1 hour)."""
        return int(self.raw.get("hosted_ui", {}).get("session_seconds", 3600))

    @property
    def branding(self) -> dict[str, Any]:
        """Managed-login branding for every hosted page: app name, logo file, colours (defaults merged)."""
        given = self.raw.get("branding") or {}
        if not isinstance(given, dict):
            raise ValueError(f'{self.path}: "branding" must be an object')
        return {**DEFAULT_BRANDING, **{k: v for k, v in given.items() if not k.startswith("_")}}

    @property
    def max_token_lifetime(self) -> int:
        """Longest ID/access token lifetime: how long a retired key stays in the JWKS."""
        client = self.app_client
        return max(
            token_validity_seconds(client, "AccessToken"),
            token_validity_seconds(client, "IdToken"),
        )

    @property
    def identity_pool(self) -> dict[str, Any]:
        """The seeded identity pool: name, guest access, credential lifetime, roles and policies."""
        return dict(self.raw.get("identity_pool") or {})

    @property
    def iam_roles(self) -> dict[str, dict[str, Any]]:
        """Further IAM roles the identity pool may hand out: name → {RoleArn, Policy}."""
        roles = self.raw.get("iam_roles") or {}
        return {k: v for k, v in roles.items() if not k.startswith("_") and isinstance(v, dict)}

    def role_mappings(self, *, client_name: str) -> list[dict[str, Any]]:
        """The seeded RoleMappings entry (RoleMapping shape) for the app client of that name, if any."""
        mappings = self.raw.get("identity_pool_role_mappings") or {}
        mapping = mappings.get(client_name)
        return [mapping] if isinstance(mapping, dict) else []

    @property
    def credentials_seconds(self) -> int:
        """Lifetime of identity-pool credentials (Cognito: 1 hour, fixed)."""
        return int(self.identity_pool.get("credentials_seconds", 3600))

    @property
    def bucket(self) -> str | None:
        """Name of the seeded private bucket (None: no bucket)."""
        name = (self.raw.get("s3") or {}).get("bucket")
        return str(name) if name else None

    @property
    def cors_rules(self) -> list[dict[str, Any]]:
        """The bucket's CORS rules (PutBucketCors shape)."""
        return list((self.raw.get("s3") or {}).get("CORSRules", []))

    @property
    def identity_providers(self) -> list[dict[str, Any]]:
        """CreateIdentityProvider parameters (no UserPoolId) for each seeded external provider."""
        return [dict(p) for p in self.raw.get("identity_providers", [])]

    @property
    def fake_identities(self) -> dict[str, list[dict[str, Any]]]:
        """The test accounts each fake provider lists on its sign-in page (by provider slug)."""
        raw = self.raw.get("fake_identity_providers") or {}
        return {k: list(v.get("identities", [])) for k, v in raw.items() if not k.startswith("_")}

    @property
    def federation(self) -> dict[str, Any]:
        """link_verified_email (the emulated pre-sign-up trigger), the provider-call timeout and the
        bounds on pending round trips (in all, per client address)."""
        raw = self.raw.get("federation") or {}
        return {
            "link_verified_email": bool(raw.get("link_verified_email", False)),
            "idp_timeout_seconds": float(raw.get("idp_timeout_seconds", 10)),
            "max_round_trips": max(1, int(raw.get("max_round_trips", 10_000))),
            "max_round_trips_per_address": max(1, int(raw.get("max_round_trips_per_address", 20))),
        }
