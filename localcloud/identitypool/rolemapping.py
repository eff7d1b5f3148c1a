"""Role-based access control of the identity pool: SetIdentityPoolRoles' RoleMappings, applied.

Which role a signed-in identity gets at GetCredentialsForIdentity (enhanced flow), as Cognito
decides it (cognito-reference-2 §2.2–2.3):

* no mapping for the login's provider (``cognito-idp.<region>.amazonaws.com/<poolId>:<clientId>``):
  the pool's ``authenticated`` role;
* ``Token``: a ``CustomRoleArn`` must be one of the ID token's ``cognito:roles``; else
  ``cognito:preferred_role``; else the mapping is ambiguous;
* ``Rules``: rules run in order and the first whose claim matches wins (a ``CustomRoleArn`` may pick
  another matching rule's role); no match is ambiguous;
* ambiguous: ``AuthenticatedRole`` gives the pool's authenticated role, ``Deny`` refuses with
  ``NotAuthorizedException``.

A ``MatchType`` compares the claim as a string, case-sensitively; ``NotEqual`` skips a rule whose
claim is absent. A claim that is a list (``cognito:groups``) matches when one of its members does
(``NotEqual``: when none equals) — how AWS treats arrays is unconfirmed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MATCH_TYPES = ("Equals", "Contains", "StartsWith", "NotEqual")
MAPPING_TYPES = ("Token", "Rules")
AMBIGUOUS_RESOLUTIONS = ("AuthenticatedRole", "Deny")
ROLE_TYPES = ("authenticated", "unauthenticated")
# Cognito's quotas: 10 providers with mappings per pool, 25 rules per provider.
MAX_MAPPINGS = 10
MAX_RULES = 25


class MappingError(Exception):
    """A refused request: the Cognito error type and message."""

    def __init__(self, error_type: str, message: str) -> None:
        """Keep the error type and message."""
        super().__init__(message)
        self.error_type = error_type
        self.message = message


def _invalid(message: str) -> MappingError:
    return MappingError("InvalidParameterException", message)


def _null_error(where: str) -> MappingError:
    """A null (or non-object) where the model wants a structure: the validation error AWS gives."""
    return _invalid(
        f"1 validation error detected: Value null at '{where}' failed to satisfy constraint: "
        "Member must not be null"
    )


def _enum_error(value: object, where: str, allowed: tuple[str, ...]) -> MappingError:
    """The service's validation message for a value outside an enum (as cognito-idp words it)."""
    return _invalid(
        f"1 validation error detected: Value '{str(value)[:128]}' at '{where}' failed to satisfy "
        f"constraint: Member must satisfy enum value set: [{', '.join(allowed)}]"
    )


def forbidden_role(arn: object) -> MappingError:
    """AWS's answer to a role ARN the pool may not pass (unknown role, or not a role ARN at all)."""
    return MappingError("NotAuthorizedException", f"Access to Role '{str(arn)[:2048]}' is forbidden.")


# --- SetIdentityPoolRoles: checking what is set ---------------------------------------------------------
def check_roles(roles: Any, known_roles: Mapping[str, Any]) -> dict[str, str]:
    """The Roles map: keys authenticated/unauthenticated, values roles this account has."""
    if not isinstance(roles, dict):
        raise _invalid("Roles must be a map")
    checked = {}
    for kind, arn in roles.items():
        if kind not in ROLE_TYPES:
            raise _invalid(
                f"1 validation error detected: Value '{str(kind)[:128]}' at 'roles' failed to satisfy "
                "constraint: Map keys must satisfy constraint: [Member must satisfy regular expression "
                "pattern: (un)?authenticated]"
            )
        if arn not in known_roles:
            raise forbidden_role(arn)
        checked[kind] = arn
    return checked


def check_mappings(
    mappings: Any, providers: set[str], known_roles: Mapping[str, Any]
) -> dict[str, dict[str, Any]]:
    """The RoleMappings map, each mapping complete and naming a configured provider and known roles."""
    if mappings is None:
        return {}
    if not isinstance(mappings, dict):
        raise _invalid("RoleMappings must be a map")
    if len(mappings) > MAX_MAPPINGS:
        raise _invalid(f"RoleMappings may name at most {MAX_MAPPINGS} providers.")
    checked = {}
    for name, mapping in mappings.items():
        if name not in providers:
            raise _invalid(
                f"{str(name)[:128]} is not a valid RoleMapping ProviderName or is not a configured provider."
            )
        checked[name] = _check_mapping(name, mapping, known_roles)
    return checked


def _check_mapping(name: str, mapping: Any, known_roles: Mapping[str, Any]) -> dict[str, Any]:
    """One provider's mapping.

    botocore's model has checked the JSON types of what is present, but reads a null as absent: a
    null mapping, rule list or rule reaches here and is refused as AWS refuses it (400).
    """
    where = f"roleMappings.{name}.member"
    if not isinstance(mapping, dict):
        raise _null_error(where)
    kind = mapping.get("Type")
    if kind not in MAPPING_TYPES:
        raise _enum_error(kind, f"{where}.type", MAPPING_TYPES)
    resolution = mapping.get("AmbiguousRoleResolution")
    if resolution is None:
        raise _invalid(f"AmbiguousRoleResolution must be specified for {kind} based role mapping.")
    if resolution not in AMBIGUOUS_RESOLUTIONS:
        raise _enum_error(resolution, f"{where}.ambiguousRoleResolution", AMBIGUOUS_RESOLUTIONS)
    checked: dict[str, Any] = {"Type": kind, "AmbiguousRoleResolution": resolution}
    if kind == "Rules":
        configuration = mapping.get("RulesConfiguration")
        rules = configuration.get("Rules") if isinstance(configuration, dict) else None
        if not rules or not isinstance(rules, list):
            raise _invalid("RulesConfiguration must be specified for Rules based role mapping.")
        if len(rules) > MAX_RULES:
            raise _invalid(f"A role mapping may have at most {MAX_RULES} rules.")
        checked["RulesConfiguration"] = {"Rules": [_check_rule(where, rule, known_roles) for rule in rules]}
    return checked


def _check_rule(where: str, rule: Any, known_roles: Mapping[str, Any]) -> dict[str, str]:
    """One rule: a known MatchType, a role the pool may pass, a claim and a value."""
    where = f"{where}.rulesConfiguration.rules.member"
    if not isinstance(rule, dict):
        raise _null_error(where)
    for key in ("Claim", "Value"):
        if not isinstance(rule.get(key), str) or not rule[key]:
            raise _null_error(f"{where}.{key[0].lower()}{key[1:]}")
    match_type = rule.get("MatchType")
    if match_type not in MATCH_TYPES:
        raise _enum_error(match_type, f"{where}.matchType", MATCH_TYPES)
    if rule.get("RoleARN") not in known_roles:
        raise forbidden_role(rule.get("RoleARN"))
    return {k: str(rule[k]) for k in ("Claim", "MatchType", "Value", "RoleARN")}


# --- GetCredentialsForIdentity: choosing the role ---------------------------------------------
def _claim_strings(value: Any) -> list[str] | None:
    """A claim as the strings a rule compares (None: absent); JSON booleans as JWTs spell them."""
    if value is None:
        return None
    values = value if isinstance(value, list) else [value]
    return [("true" if v else "false") if isinstance(v, bool) else str(v) for v in values]


def rule_matches(rule: Mapping[str, str], claims: Mapping[str, Any]) -> bool:
    """Whether one rule matches the ID token's claims."""
    values = _claim_strings(claims.get(rule["Claim"]))
    if values is None:
        return False  # an absent claim matches no rule, NotEqual included (it is skipped)
    expected, match_type = rule["Value"], rule["MatchType"]
    if match_type == "NotEqual":
        return all(v != expected for v in values)
    if match_type == "Equals":
        return expected in values
    if match_type == "Contains":
        return any(expected in v for v in values)
    return any(v.startswith(expected) for v in values)  # StartsWith


@dataclass(frozen=True)
class Choice:
    """What a mapping makes of a token: the roles it allows and the one it picks (None: ambiguous)."""

    allowed: tuple[str, ...]
    picked: str | None


def _token_choice(claims: Mapping[str, Any]) -> Choice:
    roles = claims.get("cognito:roles")
    roles = tuple(r for r in roles if isinstance(r, str)) if isinstance(roles, list) else ()
    preferred = claims.get("cognito:preferred_role")
    return Choice(roles, preferred if isinstance(preferred, str) and preferred in roles else None)


def _rules_choice(mapping: Mapping[str, Any], claims: Mapping[str, Any]) -> Choice:
    matching = tuple(
        rule["RoleARN"] for rule in mapping["RulesConfiguration"]["Rules"] if rule_matches(rule, claims)
    )
    return Choice(matching, matching[0] if matching else None)


def resolve_role(
    *,
    mapping: Mapping[str, Any] | None,
    claims: Mapping[str, Any],
    authenticated_role: str | None,
    custom_role_arn: str | None,
    provider: str,
) -> str | None:
    """The role for a signed-in identity; MappingError when the mapping or CustomRoleArn refuses.

    None means the role that applies is not set (the caller answers
    InvalidIdentityPoolConfigurationException, as Cognito does).
    """
    if mapping is None:
        choice = Choice((authenticated_role,) if authenticated_role else (), authenticated_role)
    elif mapping["Type"] == "Token":
        choice = _token_choice(claims)
    else:
        choice = _rules_choice(mapping, claims)
    if custom_role_arn is not None:
        allowed = choice.allowed
        if not allowed and mapping is not None and mapping["AmbiguousRoleResolution"] == "AuthenticatedRole":
            allowed = (authenticated_role,) if authenticated_role else ()
        if custom_role_arn not in allowed:
            # AWS refuses a CustomRoleArn the token or rules do not allow (exact wording unconfirmed).
            raise MappingError(
                "NotAuthorizedException", f"The role {custom_role_arn[:2048]} is not allowed for this login."
            )
        return custom_role_arn
    if mapping is None or choice.picked is not None:
        return choice.picked
    if mapping["AmbiguousRoleResolution"] == "Deny":
        raise MappingError(
            "NotAuthorizedException", f"The ambiguous role mapping rules for: {provider} denied this request."
        )
    return authenticated_role
