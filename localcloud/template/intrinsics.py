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
    if not isinstance(declared, dict):
        raise TemplateError("Parameters must be a mapping of parameter names to declarations")
    values: dict[str, Any] = {}
    for name, spec in declared.items():
        if not isinstance(spec, dict) or not isinstance(spec.get("Type"), str):
            raise TemplateError(f"parameter {name}: a declaration is a mapping with a Type")
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
        self._evaluating: set[str] = set()

    # --- conditions ---------------------------------------------------------------------------------
    def condition(self, name: str) -> bool:
        """The named condition's value (evaluated once)."""
        if name not in self._conditions:
            declared = self.template.get("Conditions") or {}
            if not isinstance(name, str) or name not in declared:
                raise TemplateError(f"unknown condition {name!r}")
            if name in self._evaluating:
                raise TemplateError(f"condition {name} refers to itself (circular Conditions)")
            self._evaluating.add(name)
            self._conditions[name] = self._truth(declared[name])
            self._evaluating.discard(name)
        return self._conditions[name]

    def _truth(self, node: Any) -> bool:
        if not (isinstance(node, dict) and len(node) == 1):
            raise TemplateError(f"not a condition: {node!r}")
        ((function, args),) = node.items()
        if function == "Condition":
            return self.condition(args)
        if function == "Fn::Equals":
            left, right = (self._scalar(self.resolve(arg), function) for arg in _args(function, args, 2))
            return left == right
        if function == "Fn::Not":
            return not self._truth(_args(function, args, 1)[0])
        if function in ("Fn::And", "Fn::Or"):
            if not isinstance(args, list) or not 2 <= len(args) <= 10:
                raise TemplateError(f"{function} takes a list of 2 to 10 conditions, not {args!r}")
            truths = (self._truth(arg) for arg in args)
            return all(truths) if function == "Fn::And" else any(truths)
        raise TemplateError(f"not a condition: {node!r}")

    def included(self, resource: dict[str, Any]) -> bool:
        """Whether a resource (or output) exists: no Condition, or a true one."""
        name = resource.get("Condition")
        return name is None or self.condition(name)

    @staticmethod
    def _scalar(value: Any, where: str) -> str:
        """A value used where CloudFormation needs a string: lists, mappings and AWS::NoValue refused."""
        if value is NO_VALUE:
            raise TemplateError(f"{where}: AWS::NoValue cannot be used as a string")
        if isinstance(value, list | dict) or value is None:
            raise TemplateError(f"{where}: {value!r} is not a string (a list parameter needs Fn::Join)")
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

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
        if not isinstance(name, str):
            raise TemplateError(f"Ref takes a name, not {name!r}")
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
        if not isinstance(resource, dict):
            raise TemplateError(f"unresolved reference {name!r}: no parameter or resource of that name")
        if not self.included(resource):
            raise TemplateError(f"{name} is referenced but its condition {resource['Condition']} is false")

    def _sub(self, args: Any) -> str:
        if isinstance(args, str):
            text, variables = args, {}
        else:
            text, variables = _args("Fn::Sub", args, 2)
        if not isinstance(text, str) or not isinstance(variables, dict):
            raise TemplateError(f"Fn::Sub takes a string, or [string, {{name: value}}], not {args!r}")
        values = {name: self.resolve(value) for name, value in variables.items()}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in values:
                value = values[name]
            elif "." in name and name not in self.pseudo:
                resource, _, attribute = name.partition(".")
                value = self.get_att(resource, attribute)
            else:
                value = self.ref(name)
            return self._scalar(value, f"Fn::Sub ${{{name}}}")

        return _SUB_VARIABLE.sub(replace, text)

    def _if(self, args: Any) -> Any:
        name, when_true, when_false = _args("Fn::If", args, 3)
        return self.resolve(when_true if self.condition(name) else when_false)

    def _join(self, args: Any) -> str:
        delimiter, items = _args("Fn::Join", args, 2)
        if not isinstance(delimiter, str):
            raise TemplateError(f"Fn::Join: the delimiter must be a string, not {delimiter!r}")
        return delimiter.join(self._scalar(item, "Fn::Join") for item in self._list(items))

    def _select(self, args: Any) -> Any:
        index, items = _args("Fn::Select", args, 2)
        values = self._list(items)
        position = self._scalar(self.resolve(index), "Fn::Select")
        if not position.isdigit() or not 0 <= int(position) < len(values):
            raise TemplateError(f"Fn::Select index {position!r} is not an index of {values!r}")
        return values[int(position)]

    def _split(self, args: Any) -> list[str]:
        delimiter, text = _args("Fn::Split", args, 2)
        if not isinstance(delimiter, str) or not delimiter:
            raise TemplateError(f"Fn::Split: the delimiter must be a non-empty string, not {delimiter!r}")
        return self._scalar(self.resolve(text), "Fn::Split").split(delimiter)

    def _list(self, node: Any) -> list[Any]:
        values = self.resolve(node)
        if not isinstance(values, list):
            raise TemplateError(f"expected a list, got {values!r}")
        return values


def _args(function: str, args: Any, count: int) -> list[Any]:
    """A function's arguments: a list of exactly count items, else a TemplateError naming it."""
    if not isinstance(args, list) or len(args) != count:
        raise TemplateError(f"{function} takes a list of {count} arguments, not {args!r}")
    return args


def _get_att(resolver: Resolver, args: Any) -> Any:
    parts = args.split(".", 1) if isinstance(args, str) else args
    name, attribute = _args("Fn::GetAtt", parts, 2)
    if not isinstance(name, str) or not isinstance(attribute, str):
        raise TemplateError(f"Fn::GetAtt takes [resource, attribute] names, not {args!r}")
    return resolver.get_att(name, attribute)


_FUNCTIONS: dict[str, Callable[[Resolver, Any], Any]] = {
    "Ref": lambda r, args: r.ref(args),
    "Fn::GetAtt": _get_att,
    "Fn::Sub": Resolver._sub,
    "Fn::If": Resolver._if,
    "Fn::Join": Resolver._join,
    "Fn::Select": Resolver._select,
    "Fn::Split": Resolver._split,
}
