"""POST policy documents: expiration and conditions, enforced against a browser upload's form (S3's rules)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from localcloud.s3.errors import S3Error, access_denied

# POST form fields that need no policy condition (AWS: "except x-amz-signature, file, policy and
# field names that have an x-ignore- prefix").
_UNCONDITIONED_FIELDS = {"x-amz-signature", "file", "policy"}


def _policy_failed(condition: Any) -> S3Error:
    """AccessDenied naming the failed condition, as S3 words it."""
    return access_denied(f"Invalid according to Policy: Policy Condition failed: {json.dumps(condition)}")


def check_post_policy(document: dict[str, Any], fields: dict[str, str], bucket: str, size: int,
                      now: datetime) -> None:  # fmt: skip
    """Enforce a POST policy's expiration and conditions against the form (S3's rules)."""
    _check_expiration(document, now)
    conditions = document.get("conditions")
    if not isinstance(conditions, list):
        raise S3Error("InvalidPolicyDocument", "Invalid Policy: Invalid 'conditions' value.", 400)
    values = {**fields, "bucket": bucket}
    covered: set[str] = set()
    for condition in conditions:
        if isinstance(condition, dict) and len(condition) == 1:
            covered.add(_check_exact(condition, values))
        elif isinstance(condition, list) and len(condition) == 3:
            if str(condition[0]).lower() == "content-length-range":
                _check_length(condition, size)
            else:
                covered.add(_check_match(condition, values))
        else:
            raise _invalid_condition()
    extra = sorted(
        name for name in fields if name not in covered and name not in _UNCONDITIONED_FIELDS
        and not name.startswith("x-ignore-")
    )  # fmt: skip
    if extra:
        raise access_denied(f"Invalid according to Policy: Extra input fields: {extra[0]}")
    if "key" not in fields:
        raise S3Error("InvalidArgument", "Bucket POST must contain a field named 'key'.", 400)


def _invalid_condition() -> S3Error:
    return S3Error("InvalidPolicyDocument", "Invalid Policy: Invalid condition.", 400)


def _check_expiration(document: dict[str, Any], now: datetime) -> None:
    """The policy's ISO 8601 expiration (UTC unless it says otherwise) must not have passed."""
    try:
        expiration = datetime.fromisoformat(str(document["expiration"]).replace("Z", "+00:00"))
    except (KeyError, ValueError):
        raise S3Error("InvalidPolicyDocument", "Invalid Policy: Invalid 'expiration' value.", 400) from None
    if expiration.tzinfo is None:
        expiration = expiration.replace(tzinfo=UTC)
    if now > expiration:
        raise access_denied("Invalid according to Policy: Policy expired.")


def _check_exact(condition: dict[str, Any], values: dict[str, str]) -> str:
    """{"field": "value"}: an exact match; returns the field it covers."""
    ((name, expected),) = condition.items()
    name = name.lower().lstrip("$")
    if values.get(name) != expected:
        raise _policy_failed(["eq", f"${name}", expected])
    return name


def _check_length(condition: list[Any], size: int) -> None:
    """["content-length-range", low, high]: the file's size in bytes, both ends included."""
    _, low, high = condition
    try:
        low, high = int(low), int(high)
    except (TypeError, ValueError):
        message = "Invalid Policy: Invalid content-length-range."
        raise S3Error("InvalidPolicyDocument", message, 400) from None
    if size > high:
        raise S3Error(
            "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size", 400,
            ProposedSize=str(size), MaxSizeAllowed=str(high),
        )  # fmt: skip
    if size < low:
        message = "Your proposed upload is smaller than the minimum allowed size"
        raise S3Error("EntityTooSmall", message, 400, ProposedSize=str(size), MinSizeAllowed=str(low))


def _check_match(condition: list[Any], values: dict[str, str]) -> str:
    """["eq" | "starts-with", "$field", "value"]; returns the field it covers."""
    operator, name, expected = condition
    operator = str(operator).lower()
    if not isinstance(name, str) or not name.startswith("$") or not isinstance(expected, str):
        raise _invalid_condition()
    name = name[1:].lower()
    actual = values.get(name)
    if operator == "eq":
        ok = actual == expected
    elif operator == "starts-with":
        ok = actual is not None and actual.startswith(expected)
    else:
        raise _invalid_condition()
    if not ok:
        raise _policy_failed(condition)
    return name
