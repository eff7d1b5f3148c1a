"""The one parser of JSON request bodies (the API's PATCH, the avatar upload's JSON calls)."""

from __future__ import annotations

import json
from typing import Any


class InvalidJson(ValueError):
    """The body is not JSON this app reads: the caller answers 400."""


def json_body(body: bytes, *, empty: Any = None) -> Any:
    """The parsed body (`empty` when there is none), or InvalidJson.

    Python's parser recurses once per nesting level: `[` * 60000 raises RecursionError, which is
    the client's bad input like any other, never a 500.
    """
    if not body:
        return empty
    try:
        return json.loads(body)
    except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise InvalidJson("The body is not valid JSON.") from None
