"""infra/template.yaml from the outside: resolved with parameters, compared with localcloud's seed.

The comparisons are named (``COMPARE``) so the parity table in tests/infra/test_parity.py stays data:
(template path, seed path, comparison). Paths are dotted: a template path starts with a resource's
logical id and goes into its resolved Properties; a seed path goes into config.json's data.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from localcloud.config import DEFAULT_CONFIG, Config
from localcloud.template.seed import Resolved, cors_rule, resolve
from tests.support.localcloud import ROOT

TEMPLATE = ROOT / "infra" / "template.yaml"
ENV_EXAMPLE = ROOT / ".env.example"
# Origins unlike the seed's (localhost), so URLs are compared modulo origin.
DEPLOYED = {"AppOrigins": "https://profiles.example.com", "SpaOrigins": "https://spa.example.com"}
MISSING = object()


def resolved_template(path: Path = TEMPLATE, **parameters: str) -> Resolved:
    """The template resolved as a deployment with DEPLOYED's origins (and these parameters) would be."""
    return resolve(path, {**DEPLOYED, **parameters})


def seed() -> dict[str, Any]:
    """The shipped localcloud seed (localcloud/config.json), as localcloud reads it."""
    return Config.load(DEFAULT_CONFIG).raw


def lookup(data: Any, path: str) -> Any:
    """data at a dotted path, or MISSING."""
    for part in path.split("."):
        if not isinstance(data, dict) or part not in data:
            return MISSING
        data = data[part]
    return data


def template_value(resolved: Resolved, path: str) -> Any:
    """Resource.Property... of a resolved template, or MISSING; "*<Type>": every resource of a type."""
    if path.startswith("*"):
        return list(resolved.of_type(path[1:]).values())
    resource, _, rest = path.partition(".")
    if resource not in resolved.resources:
        return MISSING
    properties = resolved.resources[resource]["Properties"]
    return lookup(properties, rest) if rest else properties


# --- comparisons: (template value, seed value) -> whether they agree ---------------------------------------
def _paths(urls: list[str]) -> list[str]:
    return [urlsplit(url)._replace(scheme="", netloc="").geturl() for url in urls]


def _bucketless(document: Any) -> Any:
    """A policy with the bucket's name replaced: names differ per deployment, the statements may not."""
    text = re.sub(r"arn:aws:s3:::[a-z0-9.-]+", "arn:aws:s3:::BUCKET", json.dumps(document))
    return json.loads(text)


def _policy(template_policies: Any, seed_policy: Any) -> bool:
    documents = [p["PolicyDocument"] for p in template_policies]
    if len(documents) != 1:
        return False
    return bool(_bucketless(documents[0]) == _bucketless(seed_policy))


def _cors(template_rules: Any, seed_rules: Any) -> bool:
    """Same rules in PutBucketCors shape, origins aside (they are the deployment's)."""

    def originless(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{k: v for k, v in rule.items() if k != "AllowedOrigins"} for rule in rules]

    return originless([cors_rule(rule) for rule in template_rules]) == originless(seed_rules)


def _groups(template_groups: Any, seed_groups: Any) -> bool:
    def key(groups: list[dict[str, Any]]) -> list[str]:
        return sorted(
            json.dumps({k: v for k, v in g.items() if k != "UserPoolId"}, sort_keys=True) for g in groups
        )

    return key(template_groups) == key(seed_groups)


def _role_mapping(template_mapping: Any, seed_mapping: Any) -> bool:
    """Same mapping, rules in the same order; role ARNs are per account (the policies are compared)."""

    def shape(mapping: dict[str, Any]) -> dict[str, Any]:
        rules = [
            {k: v for k, v in r.items() if k != "RoleARN"} for r in mapping["RulesConfiguration"]["Rules"]
        ]
        same_role = len({r["RoleARN"] for r in mapping["RulesConfiguration"]["Rules"]})
        kept = {k: v for k, v in mapping.items() if k not in ("IdentityProvider", "RulesConfiguration")}
        return {**kept, "rules": rules, "roles": same_role}

    return shape(template_mapping) == shape(seed_mapping)


COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "same": lambda t, s: bool(t == s),
    "same set": lambda t, s: t is not MISSING and s is not MISSING and sorted(t) == sorted(s),
    # The deployed client allows no more than localcloud's (which adds password flows for tests).
    "template within seed": lambda t, s: t is not MISSING and s is not MISSING and set(t) <= set(s),
    "same paths": lambda t, s: t is not MISSING and s is not MISSING and _paths(t) == _paths(s),
    "totp": lambda t, s: ("SOFTWARE_TOKEN_MFA" in (t or [])) == bool((s or {}).get("Enabled")),
    "policy": _policy,
    "cors": _cors,
    "groups": _groups,
    "role mapping": _role_mapping,
}
