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


# CloudFormation's limit on a template (uploaded through S3; 51,200 bytes when sent inline).
MAX_BYTES = 1024 * 1024
# How deeply mappings and lists may nest (the Python stack must outlive the deepest legal template).
MAX_DEPTH = 100


class _Loader(yaml.SafeLoader):
    """SafeLoader (no arbitrary objects) that knows CloudFormation's tags; refuses anchors and
    aliases (CloudFormation does: they are how a few lines expand to gigabytes) and deep nesting."""

    _depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise TemplateError(
                f"line {event.start_mark.line + 1}: YAML anchors and aliases (&, *) are not allowed "
                "in a CloudFormation template"
            )
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise TemplateError(f"line {event.start_mark.line + 1}: nested more than {MAX_DEPTH} deep")
            return super().compose_node(parent, index)  # type: ignore[no-any-return]
        finally:
            self._depth -= 1


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
        with path.open("rb") as file:
            raw = file.read(MAX_BYTES + 1)
    except OSError as exc:
        raise TemplateError(f"{path}: cannot read the template: {exc.strerror}") from exc
    if len(raw) > MAX_BYTES:
        raise TemplateError(f"{path}: larger than CloudFormation's limit of {MAX_BYTES:,} bytes")
    try:
        data = yaml.load(raw.decode("utf-8"), Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except UnicodeDecodeError as exc:
        raise TemplateError(f"{path}: not UTF-8 text") from exc
    except yaml.YAMLError as exc:
        raise TemplateError(f"{path}: not a valid template: {exc}") from exc
    except TemplateError as exc:
        raise TemplateError(f"{path}: {exc}") from exc
    _check_shape(path, data)
    return data


def _check_shape(path: Path, data: Any) -> None:
    """The sections and resources are mappings where CloudFormation needs them to be."""
    if not isinstance(data, dict) or not isinstance(data.get("Resources"), dict):
        raise TemplateError(f"{path}: a template is a mapping with a Resources section")
    for logical_id, resource in data["Resources"].items():
        if not isinstance(resource, dict) or not isinstance(resource.get("Type"), str):
            raise TemplateError(f"{path}: resource {logical_id} must be a mapping with a Type")
        if not isinstance(resource.get("Properties") or {}, dict):
            raise TemplateError(f"{path}: resource {logical_id}: Properties must be a mapping")
    for section in ("Parameters", "Conditions", "Outputs", "Mappings"):
        if not isinstance(data.get(section) or {}, dict):
            raise TemplateError(f"{path}: {section} must be a mapping")
    for name, output in (data.get("Outputs") or {}).items():
        if not isinstance(output, dict) or "Value" not in output:
            raise TemplateError(f"{path}: output {name} must be a mapping with a Value")
