"""Every Cognito API call's parameters checked against the botocore service model's input shape.

AWS validates a request against the operation's model before running it; moto does not, and raises
KeyError/TypeError (a 500) on a missing or mistyped parameter. So both JSON APIs (cognito-idp and
cognito-identity, localcloud's own handlers and moto's alike) are validated here first, with
botocore's ParamValidator: a wrong JSON type is a ``SerializationException`` (as AWS answers),
anything else (a missing required member, a value below its minimum, a length or value above its
maximum) an ``InvalidParameterException``, with the validator's message. As on AWS, members the
model does not know are ignored and ``null`` is the same as leaving a member out.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import botocore.session
from botocore.model import ServiceModel, Shape
from botocore.validate import ParamValidator, ValidationErrors
from werkzeug.wrappers import Response

from localcloud.awsjson import MAX_DEPTH, error_response, too_deep

# The message quotes offending values: keep it short.
MAX_MESSAGE = 1000


@cache
def service_model(service: str) -> ServiceModel:
    """The botocore model of a service (loaded once)."""
    return botocore.session.get_session().get_service_model(service)


class _Errors(ValidationErrors):
    """botocore's error list, without unknown members (AWS ignores those) and with max constraints."""

    def __init__(self) -> None:
        super().__init__()
        self.reasons: set[str] = set()

    def report(self, name: str, reason: str, **kwargs: Any) -> None:
        if reason == "unknown field":
            return
        self.reasons.add(reason)
        super().report(name, reason, **kwargs)

    def _format_error(self, error: tuple[str, str, dict[str, Any]]) -> str:
        reason, name, additional = error
        if reason == "above maximum":
            return (
                f"Invalid {additional['what']} for parameter {self._get_name(name)}: {additional['detail']}"
            )
        return str(super()._format_error(error))


class _Validator(ParamValidator):
    def validate(self, params: Any, shape: Shape) -> _Errors:
        errors = _Errors()
        self._validate(params, shape, errors, name="")
        if not errors.has_errors():
            _check_maximums(params, shape, errors, "")
        return errors


def _check_maximums(value: Any, shape: Shape, errors: _Errors, name: str) -> None:
    """The model's max length / max value, which botocore leaves to the service (values well-typed)."""
    _check_maximum(value, shape, errors, name)
    for child_name, child, child_shape in _children(value, shape, name):
        _check_maximums(child, child_shape, errors, child_name)


def _check_maximum(value: Any, shape: Shape, errors: _Errors, name: str) -> None:
    """This value against its own shape's maximum."""
    maximum = shape.metadata.get("max")
    if maximum is None:
        return
    if isinstance(value, str | list | dict) and len(value) > maximum:
        errors.report(name, "above maximum", what="length", detail=f"length {len(value)} > {maximum}")
    elif isinstance(value, int | float) and not isinstance(value, bool) and value > maximum:
        errors.report(name, "above maximum", what="value", detail=f"{value} > {maximum}")


def _children(value: Any, shape: Shape, name: str) -> list[tuple[str, Any, Shape]]:
    """(name, value, shape) of what a structure, list or map holds; nothing for a scalar."""
    if shape.type_name == "structure" and isinstance(value, dict):
        return [
            (f"{name}.{member}", value[member], member_shape)
            for member, member_shape in shape.members.items()
            if value.get(member) is not None
        ]
    if shape.type_name == "list" and isinstance(value, list):
        return [(f"{name}[{index}]", item, shape.member) for index, item in enumerate(value)]
    if shape.type_name == "map" and isinstance(value, dict):
        children = []
        for key, item in value.items():
            children.append((f"{name}.{key[:64]}", key, shape.key))
            children.append((f"{name}.{key[:64]}", item, shape.value))
        return children
    return []


def _without_nulls(value: Any) -> Any:
    """JSON null members dropped (AWS reads them as absent)."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def check(service: str, operation: str, params: dict[str, Any]) -> Response | None:
    """None when the parameters fit the operation's input shape; otherwise AWS's 400 error."""
    model = service_model(service)
    if operation not in model.operation_names:
        return None  # unknown operations get their own answer downstream
    shape = model.operation_model(operation).input_shape
    if shape is None:
        return None
    if too_deep(params):  # every walk below recurses: bound it first (read_body does too)
        return error_response("SerializationException", f"Parameters nested deeper than {MAX_DEPTH} levels")
    errors = _Validator().validate(_without_nulls(params), shape)
    if not errors.has_errors():
        return None
    message = errors.generate_report()
    if len(message) > MAX_MESSAGE:
        message = message[:MAX_MESSAGE] + "…"
    error_type = "SerializationException" if "invalid type" in errors.reasons else "InvalidParameterException"
    return error_response(error_type, message)
