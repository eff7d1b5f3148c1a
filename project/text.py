"""Which characters a line of text shown to other people may not hold: one rule for every app.

The profile forms refuse them (profiles.forms); text that comes from Cognito claims, which a user
can set to anything through UpdateUserAttributes, is cleaned of them instead (a sign-in cannot be
refused for a name Cognito accepted): accounts and profiles both use this module, never each other.
"""

from __future__ import annotations

import unicodedata

# Control (Cc), format (Cf: bidi overrides such as U+202E, invisible marks) and line/paragraph
# separators (Zl, Zp): they reorder or hide what other people see. The zero-width (non-)joiner is a
# format character that Persian, Indic scripts and emoji sequences need. Lone surrogates (Cs) are
# not text at all (no UTF-8 for them: Postgres could not store them).
REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
JOINERS = frozenset({"\u200c", "\u200d"})
# In a multi-line text (a bio), line breaks and tabs are text.
LINE_BREAKS = frozenset({"\n", "\r", "\t"})


def _allowed(multi_line: bool) -> frozenset[str]:
    return JOINERS | LINE_BREAKS if multi_line else JOINERS


def first_refused(value: str, *, multi_line: bool = False) -> str | None:
    """The first character of `value` the rule refuses, or None."""
    allowed = _allowed(multi_line)
    for char in value:
        if char not in allowed and unicodedata.category(char) in REFUSED_CATEGORIES:
            return char
    return None


def without_refused(value: str, *, multi_line: bool = False) -> str:
    """`value` with every character the rule refuses removed."""
    if first_refused(value, multi_line=multi_line) is None:
        return value  # the common case: no copy
    allowed = _allowed(multi_line)
    return "".join(
        char for char in value if char in allowed or unicodedata.category(char) not in REFUSED_CATEGORIES
    )


def shown(value: str, *, multi_line: bool = False) -> str:
    """`value` with each refused character written out as its code point ("<U+202E>"), for staff.

    For text kept as is because it is a fact, not a choice (an e-mail address Cognito verified):
    HTML escaping leaves a bidi override working, so screens show where it is instead.
    """
    if first_refused(value, multi_line=multi_line) is None:
        return value
    allowed = _allowed(multi_line)
    return "".join(
        char
        if char in allowed or unicodedata.category(char) not in REFUSED_CATEGORIES
        else f"<U+{ord(char):04X}>"
        for char in value
    )
