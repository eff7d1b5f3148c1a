"""IAM policy evaluation for the identity-pool roles: the subset S3 access control here needs.

Model (IAM's, reduced): a request is allowed when some Allow statement matches its action,
resource and conditions, and no Deny statement does; otherwise it is implicitly denied. Action
and resource patterns take ``*`` and ``?`` (actions case-insensitively). Policy variables
``${cognito-identity.amazonaws.com:sub}`` (the identity id) and ``...:aud`` (the identity pool id)
are substituted, as are ``${*}``, ``${?}``, ``${$}``; a statement with an unknown variable does not
match. Conditions: StringEquals, StringNotEquals, StringLike, StringNotLike (values OR-ed, keys
AND-ed). ``NotAction``, ``NotResource``, ``Principal`` and other operators are not supported: such
a statement never matches (so an Allow never widens access by accident).
"""

from __future__ import annotations

import re
from typing import Any

_TOKEN = re.compile(r"\$\{([^}]*)\}|\*|\?|[^$*?]+|\$")
_LITERAL_VARIABLES = {"*": "*", "?": "?", "$": "$"}
_OPERATORS = {"StringEquals", "StringNotEquals", "StringLike", "StringNotLike"}


class _Unresolved(Exception):
    """A policy variable without a value for this request."""


def _as_list(value: Any) -> list[str]:
    """IAM allows a string or a list of strings almost everywhere."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    return []


def _pattern(text: str, variables: dict[str, str], *, wildcards: bool) -> str:
    """A regex for one IAM string: variables substituted literally, * and ? as wildcards."""
    parts = []
    for match in _TOKEN.finditer(text):
        piece = match.group(0)
        if match.group(1) is not None:
            name = match.group(1)
            if name in _LITERAL_VARIABLES:
                parts.append(re.escape(_LITERAL_VARIABLES[name]))
            elif name in variables:
                parts.append(re.escape(variables[name]))
            else:
                raise _Unresolved(name)
        elif piece == "*" and wildcards:
            parts.append(".*")
        elif piece == "?" and wildcards:
            parts.append(".")
        else:
            parts.append(re.escape(piece))
    return "".join(parts)


def _matches(patterns: list[str], value: str, variables: dict[str, str], *, wildcards: bool = True,
             ignore_case: bool = False) -> bool:  # fmt: skip
    """Whether value matches any of the patterns."""
    flags = re.IGNORECASE if ignore_case else 0
    for pattern in patterns:
        try:
            regex = _pattern(pattern, variables, wildcards=wildcards)
        except _Unresolved:
            continue
        if re.fullmatch(regex, value, flags | re.DOTALL):
            return True
    return False


def _conditions_hold(conditions: Any, context: dict[str, str], variables: dict[str, str]) -> bool:
    """Every condition block holds (unknown operators never hold)."""
    if conditions is None:
        return True
    if not isinstance(conditions, dict):
        return False
    for operator, block in conditions.items():
        if operator not in _OPERATORS or not isinstance(block, dict):
            return False
        like = operator.endswith("Like")
        negated = "Not" in operator
        for key, values in block.items():
            if key not in context:
                # IAM: a missing key fails positive operators and satisfies negated ones.
                if negated:
                    continue
                return False
            hit = _matches(_as_list(values), context[key], variables, wildcards=like)
            if hit == negated:
                return False
    return True


def _statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The statements of a policy document (a single object or a list)."""
    statements = document.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    return [s for s in statements if isinstance(s, dict)] if isinstance(statements, list) else []


def _statement_matches(
    statement: dict[str, Any], action: str, resource: str, context: dict[str, str], variables: dict[str, str]
) -> bool:
    """Whether one statement applies to the request."""
    if any(k in statement for k in ("NotAction", "NotResource", "NotPrincipal", "Principal")):
        return False
    return (
        _matches(_as_list(statement.get("Action")), action, variables, ignore_case=True)
        and _matches(_as_list(statement.get("Resource")), resource, variables)
        and _conditions_hold(statement.get("Condition"), context, variables)
    )


def evaluate(
    document: dict[str, Any],
    action: str,
    resource: str,
    context: dict[str, str] | None = None,
    variables: dict[str, str] | None = None,
) -> bool:
    """True when the document allows action on resource (explicit Deny wins, default deny)."""
    context, variables = context or {}, variables or {}
    allowed = False
    for statement in _statements(document):
        if not _statement_matches(statement, action, resource, context, variables):
            continue
        if statement.get("Effect") == "Deny":
            return False
        if statement.get("Effect") == "Allow":
            allowed = True
    return allowed
