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
# Unassigned (Cn) to Python's Unicode database (3.11: Unicode 14): newer combining marks (U+0897,
# U+10EFD, U+1E08F) among them, which would be neither counted as marks nor refused. A name or other
# single line refuses them (a claim loses them); a multi-line text (a bio) keeps them.
SINGLE_LINE_REFUSED = frozenset({"Cn"})
# In a multi-line text (a bio), line breaks and tabs are text.
LINE_BREAKS = frozenset({"\n", "\r", "\t"})


# Letters and symbols that draw nothing: Hangul fillers (U+115F, U+1160, U+3164, U+FFA0), the
# blank braille pattern (U+2800), the combining grapheme joiner (U+034F), Khmer's invisible vowels
# (U+17B4, U+17B5), the musical null notehead (U+1D159), the Khitan filler (U+16FE4), the ideographic
# half fill space (U+303F). They are Lo, So or Mn, so the categories above let them through: a name
# of them shows as blank.
INVISIBLE_FILLERS = frozenset(
    {
        "\u115f",
        "\u1160",
        "\u3164",
        "\uffa0",
        "\u2800",
        "\u034f",
        "\u17b4",
        "\u17b5",
        "\U0001d159",
        "\U00016fe4",
        "\u303f",
    }
)
# Unicode's Default_Ignorable_Code_Point (DerivedCoreProperties.txt), first and last of each range:
# drawn as nothing, so never the letter that combining marks sit on.
DEFAULT_IGNORABLE = (
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x061C, 0x061C),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)
# Combining marks on one character, spacing ones (Mc: Indic vowel signs) too: Vietnamese stacks 2,
# Indic and Tibetan clusters 3 or 4; more only pile up over the lines around it ("Zalgo" text). A
# form refuses the first mark past this; a claim keeps the first ones.
MAX_COMBINING_MARKS = 4
COMBINING_CATEGORIES = frozenset({"Mn", "Me", "Mc"})
# What can be seen: a letter, number, punctuation or symbol that is not a filler.
VISIBLE_CATEGORY_CLASSES = frozenset("LNPS")


def _allowed(multi_line: bool) -> frozenset[str]:
    return JOINERS | LINE_BREAKS if multi_line else JOINERS


def _refused_categories(multi_line: bool) -> frozenset[str]:
    return REFUSED_CATEGORIES if multi_line else REFUSED_CATEGORIES | SINGLE_LINE_REFUSED


def _default_ignorable(char: str) -> bool:
    code = ord(char)
    return any(first <= code <= last for first, last in DEFAULT_IGNORABLE)


def _visible(char: str, category: str) -> bool:
    return (
        category[0] in VISIBLE_CATEGORY_CLASSES
        and char not in INVISIBLE_FILLERS
        and not _default_ignorable(char)
    )


def _carries_marks(char: str, category: str) -> bool:
    """Whether marks after `char` sit on it (a new base): not after what draws nothing (no reset)."""
    return _visible(char, category) or (category in {"Zs", "Co"} and not _default_ignorable(char))


def _refused_positions(value: str, multi_line: bool):
    """Indexes of the characters the rule refuses, in order."""
    allowed = _allowed(multi_line)
    refused_categories = _refused_categories(multi_line)
    marks = 0  # combining marks since the last base character
    for index, char in enumerate(value):
        category = unicodedata.category(char)
        if char in INVISIBLE_FILLERS or (char not in allowed and category in refused_categories):
            yield index  # removed from a claim: it does not part the marks around it
        elif category in COMBINING_CATEGORIES:
            marks += 1
            if marks > MAX_COMBINING_MARKS:
                yield index
        elif _carries_marks(char, category):
            marks = 0


def first_refused(value: str, *, multi_line: bool = False) -> str | None:
    """The first character of `value` the rule refuses, or None."""
    return next((value[index] for index in _refused_positions(value, multi_line)), None)


def without_refused(value: str, *, multi_line: bool = False) -> str:
    """`value` with every character the rule refuses removed."""
    refused = set(_refused_positions(value, multi_line))
    if not refused:
        return value  # the common case: no copy
    return "".join(char for index, char in enumerate(value) if index not in refused)


def has_visible(value: str) -> bool:
    """Whether `value` shows anything: a name of only spaces, fillers and marks shows as blank."""
    return any(_visible(char, unicodedata.category(char)) for char in value)


def clean_name(value: str, max_length: int) -> str:
    """A name from a claim as pages show it: without refused characters, or "" if nothing is left to see."""
    name = without_refused(value).strip()[:max_length]
    return name if has_visible(name) else ""


def is_combining(char: str) -> bool:
    """Whether `char` is a combining mark (refused only past MAX_COMBINING_MARKS in a row)."""
    return unicodedata.category(char) in COMBINING_CATEGORIES and char not in INVISIBLE_FILLERS


def shown(value: str, *, multi_line: bool = False) -> str:
    """`value` with each refused character written out as its code point ("<U+202E>"), for staff.

    For text kept as is because it is a fact, not a choice (an e-mail address Cognito verified):
    HTML escaping leaves a bidi override working, so screens show where it is instead.
    """
    refused = set(_refused_positions(value, multi_line))
    if not refused:
        return value
    return "".join(f"<U+{ord(char):04X}>" if index in refused else char for index, char in enumerate(value))


# What a person who signed in only with a provider that gave no name (Apple never does; an
# unverified address is not shown) is called: the provider, never the raw sub.
PROVIDER_USER_LABELS = {
    "google": "Google user",
    "facebook": "Facebook user",
    "signinwithapple": "Apple user",
    "loginwithamazon": "Amazon user",
}


def provider_user_label(cognito_username: str) -> str:
    """ "Apple user" for ``SignInWithApple_…`` (Cognito may lowercase the prefix); "" for anyone else."""
    prefix, separator, _ = cognito_username.partition("_")
    return PROVIDER_USER_LABELS.get(prefix.lower(), "") if separator else ""
