"""Parameters, conditions and the intrinsic functions localcloud needs, resolved as CloudFormation does.

Supported: ``Ref`` (parameters, pseudo parameters, resources), ``Fn::GetAtt``, ``Fn::Sub`` (both
forms, ``${!Literal}``), ``Fn::If`` with ``Conditions`` (``Fn::Equals``, ``Fn::Not``, ``Fn::And``,
``Fn::Or``, ``Condition``), ``Fn::Join``, ``Fn::Select``, ``Fn::Split`` and ``AWS::NoValue``.
Anything else is a TemplateError naming the function. What a resource's ``Ref`` or attribute is
comes from the caller (``references``), since only it knows the resource types.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from localcloud.template.loader import TemplateError

# A resource's Ref (attribute None) or Fn::GetAtt value: (logical id, attribute) -> value.
References = Callable[[str, "str | None"], Any]

ACCOUNT_ID = "123456789012"
_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


class _NoValue:
    """AWS::NoValue: removes the property or list item it stands for."""

    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE = _NoValue()


def parameter_values(template: dict[str, Any], given: dict[str, str]) -> dict[str, Any]:
    """Each parameter's value: given, else its Default; checked against AllowedPattern/Values."""
    declared: dict[str, Any] = template.get("Parameters") or {}
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise TemplateError(f"Parameters: {unknown} do not exist in the template")
    values: dict[str, Any] = {}
    for name, spec in declared.items():
        if name in given:
            raw = given[name]
        elif "Default" in spec:
            raw = str(spec["Default"])
        else:
            raise TemplateError(
                f"parameter {name} has no default: give it a value (--parameter {name}=..., "
                'or "parameters" in a config file)'
            )
        values[name] = _checked(name, spec, raw)
    return values


def _checked(name: str, spec: dict[str, Any], raw: str) -> Any:
    """A parameter value in its type's shape, refused as CloudFormation would refuse it."""
    is_list = spec.get("Type") == "CommaDelimitedList"
    items = raw.split(",") if is_list else [raw]
    pattern = spec.get("AllowedPattern")
    allowed = spec.get("AllowedValues")
    for item in items:
        if pattern is not None and not re.fullmatch(pattern, item):
            raise TemplateError(f"parameter {name}: {item!r} does not match {pattern}")
        if allowed is not None and item not in [str(a) for a in allowed]:
            raise TemplateError(f"parameter {name}: {item!r} is not one of {allowed}")
    return items if is_list else raw


class Resolver:
    """Evaluates conditions and intrinsic functions of one template with fixed parameter values."""

    def __init__(
        self,
        template: dict[str, Any],
        parameters: dict[str, Any],
        pseudo: dict[str, Any],
        references: References,
    ) -> None:
        """parameters from parameter_values(); pseudo: AWS::Region, AWS::StackName... values."""
        self.template = template
        self.parameters = parameters
        self.pseudo = {"AWS::NoValue": NO_VALUE, **pseudo}
        self.references = references
        self._conditions: dict[str, bool] = {}

    # --- conditions ---------------------------------------------------------------------------------
    def condition(self, name: str) -> bool:
        """The named condition's value (evaluated once)."""
        if name not in self._conditions:
            declared = self.template.get("Conditions") or {}
            if name not in declared:
                raise TemplateError(f"unknown condition {name!r}")
            self._conditions[name] = self._truth(declared[name])
        return self._conditions[name]

    def _truth(self, node: Any) -> bool:
        if not (isinstance(node, dict) and len(node) == 1):
            raise TemplateError(f"not a condition: {node!r}")
        ((function, args),) = node.items()
        if function == "Condition":
            return self.condition(args)
        if function == "Fn::Equals":
            left, right = (self.resolve(arg) for arg in args)
            return str(left) == str(right)
        if function == "Fn::Not":
            return not self._truth(args[0])
        if function == "Fn::And":
            return all(self._truth(arg) for arg in args)
        if function == "Fn::Or":
            return any(self._truth(arg) for arg in args)
        raise TemplateError(f"not a condition: {node!r}")

    def included(self, resource: dict[str, Any]) -> bool:
        """Whether a resource (or output) exists: no Condition, or a true one."""
        name = resource.get("Condition")
        return name is None or self.condition(name)

    # --- values -----------------------------------------------------------------------------------------
    def resolve(self, node: Any) -> Any:
        """node with every intrinsic function replaced by its value (AWS::NoValue dropped)."""
        if isinstance(node, list):
            return [item for item in (self.resolve(n) for n in node) if item is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, args),) = node.items()
            if key == "Ref" or key.startswith("Fn::"):
                return self._function(key, args)
        resolved = {key: self.resolve(value) for key, value in node.items()}
        return {key: value for key, value in resolved.items() if value is not NO_VALUE}

    def _function(self, key: str, args: Any) -> Any:
        handler = _FUNCTIONS.get(key)
        if handler is None:
            raise TemplateError(f"{key} is not supported by localcloud's template seeding")
        return handler(self, args)

    def ref(self, name: str) -> Any:
        """Ref: a parameter, a pseudo parameter or a resource."""
        if name in self.parameters:
            return self.parameters[name]
        if name in self.pseudo:
            return self.pseudo[name]
        self._require_resource(name)
        return self.references(name, None)

    def get_att(self, name: str, attribute: str) -> Any:
        """Fn::GetAtt of a resource."""
        self._require_resource(name)
        return self.references(name, attribute)

    def _require_resource(self, name: str) -> None:
        resource = self.template["Resources"].get(name)
        if resource is None:
            raise TemplateError(f"unresolved reference {name!r}: no parameter or resource of that name")
        if not self.included(resource):
            raise TemplateError(f"{name} is referenced but its condition {resource['Condition']} is false")

    def _sub(self, args: Any) -> str:
        text, variables = (args, {}) if isinstance(args, str) else (args[0], args[1])
        values = {name: self.resolve(value) for name, value in variables.items()}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in values:
                return str(values[name])
            if "." in name and name not in self.pseudo:
                resource, _, attribute = name.partition(".")
                return str(self.get_att(resource, attribute))
            return str(self.ref(name))

        return _SUB_VARIABLE.sub(replace, text)

    def _if(self, args: Any) -> Any:
        name, when_true, when_false = args
        return self.resolve(when_true if self.condition(name) else when_false)

    def _join(self, args: Any) -> str:
        delimiter, items = args
        return str(delimiter).join(str(item) for item in self._list(items))

    def _select(self, args: Any) -> Any:
        index, items = args
        values = self._list(items)
        position = int(self.resolve(index))
        if not 0 <= position < len(values):
            raise TemplateError(f"Fn::Select index {position} out of range for {values!r}")
        return values[position]

    def _split(self, args: Any) -> list[str]:
        delimiter, text = args
        return str(self.resolve(text)).split(str(delimiter))

    def _list(self, node: Any) -> list[Any]:
        values = self.resolve(node)
        if not isinstance(values, list):
            raise TemplateError(f"expected a list, got {values!r}")
        return values


_FUNCTIONS: dict[str, Callable[[Resolver, Any], Any]] = {
    "Ref": lambda r, args: r.ref(args),
    "Fn::GetAtt": lambda r, args: r.get_att(*(args if isinstance(args, list) else args.split(".", 1))),
    "Fn::Sub": Resolver._sub,
    "Fn::If": Resolver._if,
    "Fn::Join": Resolver._join,
    "Fn::Select": Resolver._select,
    "Fn::Split": Resolver._split,
}
