"""Reading a page's markup the way assistive technology does: ids, what refers to them, fields."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any


@dataclass
class Markup:
    """What a page declares: element ids, id references, and each control's attributes by id."""

    ids: set[str] = field(default_factory=set)
    references: list[tuple[str, str]] = field(default_factory=list)  # (attribute, id) pairs
    controls: dict[str, dict[str, str]] = field(default_factory=dict)

    def dangling(self) -> list[tuple[str, str]]:
        """References (aria-describedby, aria-labelledby, label for, #fragment links) to no element."""
        return [(attr, ref) for attr, ref in self.references if ref not in self.ids]


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.markup = Markup()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if "id" in values:
            self.markup.ids.add(values["id"])
            if tag in ("input", "textarea", "select"):
                self.markup.controls[values["id"]] = values
        for attr in ("aria-describedby", "aria-labelledby", "aria-controls"):
            for ref in values.get(attr, "").split():
                self.markup.references.append((attr, ref))
        if tag == "label" and values.get("for"):
            self.markup.references.append(("for", values["for"]))
        href = values.get("href", "")
        if tag == "a" and href.startswith("#") and len(href) > 1:
            self.markup.references.append(("href", href[1:]))


def read_markup(html: str) -> Markup:
    """Parse a page."""
    parser = _Parser()
    parser.feed(html)
    return parser.markup


def json_script(html: str, element_id: str) -> Any:
    """The value a page embeds with Django's json_script filter under this id (what its scripts read)."""
    match = re.search(
        rf'<script id="{re.escape(element_id)}" type="application/json">(.*?)</script>', html, re.S
    )
    assert match, f"no JSON script #{element_id} in the page"
    return json.loads(match[1])
