"""Read a CloudFormation template, YAML (with the short-form tags) or JSON, into plain data.

The short forms become the long ones CloudFormation defines: ``!Ref X`` is ``{"Ref": "X"}``,
``!GetAtt A.B`` is ``{"Fn::GetAtt": ["A", "B"]}``, ``!Sub``/``!If``/... ``{"Fn::<Name>": ...}``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml


class TemplateError(ValueError):
    """The template cannot seed localcloud; the message says what and where."""


# Tags of CloudFormation's YAML short form; each maps to the long form's key.
_FUNCTIONS = (
    "And", "Base64", "Cidr", "Equals", "FindInMap", "GetAZs", "If", "ImportValue", "Join", "Not",
    "Or", "Select", "Split", "Sub", "Transform", "ToJsonString", "Length",
)  # fmt: skip


class _Loader(yaml.SafeLoader):
    """SafeLoader (no arbitrary objects) that knows CloudFormation's tags."""


# YAML 1.1 reads on/off/yes/no as booleans; CloudFormation reads them as strings (a condition On).
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _node_value(loader: _Loader, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]


def _function(key: str) -> Any:
    def construct(loader: _Loader, node: yaml.Node) -> dict[str, Any]:
        return {key: _node_value(loader, node)}

    return construct


def _get_att(loader: _Loader, node: yaml.Node) -> dict[str, Any]:
    value = _node_value(loader, node)
    if isinstance(value, str):
        # !GetAtt Resource.Attribute (the attribute may itself contain dots).
        resource, _, attribute = value.partition(".")
        value = [resource, attribute]
    return {"Fn::GetAtt": value}


_Loader.add_constructor("!Ref", _function("Ref"))
_Loader.add_constructor("!Condition", _function("Condition"))
_Loader.add_constructor("!GetAtt", _get_att)
for _name in _FUNCTIONS:
    _Loader.add_constructor(f"!{_name}", _function(f"Fn::{_name}"))


def load(path: Path) -> dict[str, Any]:
    """The template as plain data (long-form intrinsic functions)."""
    try:
        data = yaml.load(path.read_text(), Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise TemplateError(f"{path}: not a valid template: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("Resources"), dict):
        raise TemplateError(f"{path}: a template is a mapping with a Resources section")
    return data
