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
        if reason == "invalid enum":
            return _enum_message(name, additional)
        if _is_value_range(error):
            return _range_message(name, additional)
        if reason == "above maximum":
            return (
                f"Invalid {additional['what']} for parameter {self._get_name(name)}: {additional['detail']}"
            )
        return str(super()._format_error(error))

    def generate_report(self) -> str:
        """botocore's lines; only numbers out of range and values outside their enum: AWS's wording."""
        if self._errors and all(_is_value_range(e) or e[0] == "invalid enum" for e in self._errors):
            count = len(self._errors)
            lines = "; ".join(self._format_error(e) for e in self._errors)
            return f"{count} validation error{'s' if count > 1 else ''} detected: {lines}"
        return str(super().generate_report())


def _is_value_range(error: tuple[str, str, dict[str, Any]]) -> bool:
    """A number below its minimum or above its maximum (not a length)."""
    reason, _, additional = error
    return reason == "invalid range" or (reason == "above maximum" and additional.get("what") == "value")


def _aws_path(name: str) -> str:
    """botocore's ".TokenValidityUnits.AccessToken" as AWS names it: tokenValidityUnits.accessToken."""
    return ".".join(part[:1].lower() + part[1:] for part in name.strip(".").split(".") if part)


def _enum_message(name: str, additional: dict[str, Any]) -> str:
    """AWS's wording: Value 'weeks' at 'tokenValidityUnits.accessToken' failed to satisfy constraint:
    Member must satisfy enum value set: [seconds, minutes, hours, days]."""
    allowed = ", ".join(additional["valid_values"])
    return (
        f"Value '{str(additional['param'])[:64]}' at '{_aws_path(name)}' failed to satisfy constraint: "
        f"Member must satisfy enum value set: [{allowed}]"
    )


def _range_message(name: str, additional: dict[str, Any]) -> str:
    """AWS's wording: Value '16' at 'authSessionValidity' failed to satisfy constraint: ..."""
    path = _aws_path(name)
    if "min_allowed" in additional:
        bound = f"greater than or equal to {additional['min_allowed']}"
    else:
        bound = f"less than or equal to {additional['maximum']}"
    value = additional["param"]
    return f"Value '{value}' at '{path}' failed to satisfy constraint: Member must have value {bound}"


class _Validator(ParamValidator):
    def validate(self, params: Any, shape: Shape) -> _Errors:
        errors = _Errors()
        self._validate(params, shape, errors, name="")
        if not errors.has_errors():
            _check_maximums(params, shape, errors, "")
        return errors

    # A JSON true/false is no number to AWS (Python's bool is an int: botocore would take it).
    def _validate_integer(self, param: Any, shape: Shape, errors: _Errors, name: str) -> None:
        if isinstance(param, bool):
            errors.report(name, "invalid type", param=param, valid_types=["<class 'int'>"])
            return
        super()._validate_integer(param, shape, errors, name)

    # botocore leaves a string's enum to the service; AWS refuses a value outside it.
    def _shape_has_constraints(self, shape: Shape) -> bool:
        return bool(shape.enum) or bool(super()._shape_has_constraints(shape))

    def _validate_string(self, param: Any, shape: Shape, errors: _Errors, name: str) -> None:
        super()._validate_string(param, shape, errors, name)
        if isinstance(param, str) and shape.enum and param not in shape.enum:
            errors.report(name, "invalid enum", param=param, valid_values=shape.enum)

    def _validate_long(self, param: Any, shape: Shape, errors: _Errors, name: str) -> None:
        if isinstance(param, bool):
            errors.report(name, "invalid type", param=param, valid_types=["<class 'int'>"])
            return
        super()._validate_long(param, shape, errors, name)


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
        errors.report(
            name, "above maximum", what="value", detail=f"{value} > {maximum}", param=value, maximum=maximum
        )


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


def without_nulls(value: Any) -> Any:
    """JSON null members dropped (AWS reads them as absent)."""
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value]
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
    errors = _Validator().validate(without_nulls(params), shape)
    if not errors.has_errors():
        return None
    message = errors.generate_report()
    if len(message) > MAX_MESSAGE:
        message = message[:MAX_MESSAGE] + "…"
    error_type = "SerializationException" if "invalid type" in errors.reasons else "InvalidParameterException"
    return error_response(error_type, message)
