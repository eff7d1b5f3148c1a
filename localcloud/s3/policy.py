"""IAM policy evaluation for the identity-pool roles: the subset S3 access control here needs.

Model (IAM's, reduced): a request is allowed when some Allow statement matches its action,
resource and conditions, and no Deny statement does; otherwise it is implicitly denied. Action
and resource patterns take ``*`` and ``?`` (actions case-insensitively). Policy variables
``${cognito-identity.amazonaws.com:sub}`` (the identity id) and ``...:aud`` (the identity pool id)
are substituted, as are ``${*}``, ``${?}``, ``${$}``; a statement with an unknown variable does not
match. Conditions: StringEquals, StringNotEquals, StringLike, StringNotLike (values OR-ed, keys
AND-ed). ``NotAction``, ``NotResource``, ``Principal``, other operators (``Bool``, ``Numeric*``,
``...IfExists``) and other elements cannot be read here: ``check`` refuses such a policy when the
config is seeded (``PolicyError`` naming the statement), and should one reach ``evaluate`` anyway it
fails closed: an unreadable Allow never matches, an unreadable Deny always does.
"""

from __future__ import annotations

import re
from typing import Any

_TOKEN = re.compile(r"\$\{([^}]*)\}|\*|\?|[^$*?]+|\$")
_LITERAL_VARIABLES = {"*": "*", "?": "?", "$": "$"}
_OPERATORS = {"StringEquals", "StringNotEquals", "StringLike", "StringNotLike"}


_ELEMENTS = {"Sid", "Effect", "Action", "Resource", "Condition"}


class PolicyError(ValueError):
    """A policy document localcloud cannot evaluate as AWS would; the message names the statement."""


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
    if not isinstance(statements, list):
        return [{"Effect": "unreadable"}]  # fails closed
    return [s if isinstance(s, dict) else {"Effect": "unreadable"} for s in statements]


def _strings(value: Any) -> bool:
    return isinstance(value, str) or (
        isinstance(value, list) and bool(value) and all(isinstance(v, str) for v in value)
    )


def _condition_problem(conditions: Any) -> str | None:
    if not isinstance(conditions, dict):
        return "Condition is not an object"
    for operator, block in conditions.items():
        if operator not in _OPERATORS:
            return f"condition operator {operator} is not supported (only {', '.join(sorted(_OPERATORS))})"
        if not isinstance(block, dict) or not all(_strings(v) for v in block.values()):
            return f"condition {operator} is not an object of key: string(s)"
    return None


def unreadable(statement: Any) -> str | None:
    """Why localcloud cannot evaluate a statement as AWS would (None: it can)."""
    if not isinstance(statement, dict):
        return "a statement is not an object"
    unknown = sorted(set(statement) - _ELEMENTS)
    if unknown:
        return f"element(s) {', '.join(unknown)} not supported"
    if statement.get("Effect") not in ("Allow", "Deny"):
        return "Effect is neither Allow nor Deny"
    for element in ("Action", "Resource"):
        if not _strings(statement.get(element)):
            return f"{element} is not a string or a list of strings"
    if "Condition" in statement:
        return _condition_problem(statement["Condition"])
    return None


def check(document: Any, where: str) -> None:
    """PolicyError unless every statement of the document can be evaluated as AWS would."""
    if not isinstance(document, dict):
        raise PolicyError(f"{where}: a policy document is an object")
    statements = document.get("Statement", [])  # none: the policy grants nothing
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list):
        raise PolicyError(f"{where}: Statement is not a statement or a list of them")
    for index, statement in enumerate(statements):
        problem = unreadable(statement)
        if problem:
            name = statement.get("Sid") if isinstance(statement, dict) else None
            label = f"statement {name!r}" if name else f"statement {index}"
            raise PolicyError(f"{where}: {label}: {problem}; localcloud cannot evaluate it as IAM does")


def _statement_matches(
    statement: dict[str, Any], action: str, resource: str, context: dict[str, str], variables: dict[str, str]
) -> bool:
    """Whether one statement applies to the request (an unreadable one: only if it is not an Allow)."""
    if unreadable(statement) is not None:
        return statement.get("Effect") != "Allow"
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
        if statement.get("Effect") != "Allow":
            return False  # Deny, or an Effect that cannot be read: fail closed
        allowed = True
    return allowed
