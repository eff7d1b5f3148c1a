"""The AWS JSON 1.1 protocol of both Cognito APIs: request bodies, responses and errors.

cognito-idp and cognito-identity speak the same protocol (``POST /``, ``X-Amz-Target``,
``application/x-amz-json-1.1``; errors as ``{"__type", "message"}`` with ``x-amzn-ErrorType``),
so every handler and the server build their answers here.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Request, Response

JSON_TYPE = "application/x-amz-json-1.1"
# Bodies above this size are refused (Cognito's own limits are far below it).
MAX_BODY = 256 * 1024
# No operation of either model nests deeper than a few levels (a map of lists of structures...);
# anything deeper is refused before it is walked, so no recursive walk can exhaust the stack.
MAX_DEPTH = 32


def _json_default(value: object) -> object:
    """Timestamps as epoch seconds (the JSON 1.1 protocol's form); anything else as text."""
    return value.timestamp() if isinstance(value, datetime) else str(value)


def json_response(data: dict[str, Any], status: int = 200) -> Response:
    """A JSON 1.1 response like Cognito's."""
    return Response(
        json.dumps(data, default=_json_default),
        status=status,
        headers={"x-amzn-RequestId": str(uuid.uuid4())},
        content_type=JSON_TYPE,
    )


def error_response(error_type: str, message: str, status: int = 400) -> Response:
    """Cognito's error shape: ``{"__type", "message"}`` plus x-amzn-ErrorType."""
    response = json_response({"__type": error_type, "message": message}, status)
    response.headers["x-amzn-ErrorType"] = f"{error_type}:"
    return response


def read_body(request: Request) -> tuple[bytes, dict[str, Any]] | Response:
    """(raw body, JSON object) of a JSON 1.1 call, or the Cognito-shaped error for bad input."""
    if request.method != "POST":
        return error_response("UnknownOperationException", "POST required")
    if (request.content_length or 0) > MAX_BODY:
        return error_response("InvalidParameterException", "Request body too large", 413)
    try:
        raw = request.get_data(cache=True)
        params = json.loads(raw or b"{}")
    except RequestEntityTooLarge:
        return error_response("InvalidParameterException", "Request body too large", 413)
    except (ValueError, UnicodeDecodeError):
        return error_response("SerializationException", "Request body is not valid JSON")
    except RecursionError:  # nested deeper than the parser's stack
        return error_response("SerializationException", "Request body is nested too deeply")
    if not isinstance(params, dict):
        return error_response("SerializationException", "Request body must be a JSON object")
    if too_deep(params):
        return error_response("SerializationException", "Request body is nested too deeply")
    return raw, params


def too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether JSON data nests objects/arrays more than limit levels (checked without recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        for child in children:
            if isinstance(child, dict | list):
                if depth + 1 > limit:
                    return True
                stack.append((child, depth + 1))
    return False
