"""CORS on /oauth2/token and /oauth2/revoke, so a single-page app can redeem and refresh its tokens.

Both are POSTs of a form with no custom header: "simple" requests a browser sends without a
preflight, then shows the answer to the page only if it carries ``Access-Control-Allow-Origin``.
That header is given to the origins (scheme://host:port) of the URLs registered for the client the
request names (CallbackURLs, LogoutURLs), never ``*``, with ``Vary: Origin``; no credentials (the
hosted UI's cookie is not involved). Cognito reportedly answers any origin; localcloud is stricter.
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import urlsplit

from moto.core.exceptions import JsonRESTError
from werkzeug.wrappers import Request, Response

from localcloud.userpool import backend as bk


def _origin(url: str) -> str:
    """scheme://host[:port] of a URL."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _client_id(request: Request) -> str:
    """The client a token or revocation request names (Basic user name or form client_id)."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Basic "):
        try:
            return base64.b64decode(header[6:].strip(), validate=True).decode().partition(":")[0]
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return ""
    values = (
        request.form.getlist("client_id") if request.mimetype == "application/x-www-form-urlencoded" else []
    )
    return values[0] if len(values) == 1 else ""


def allowed_origins(client_id: str) -> set[str]:
    """The web origins of a client's registered URLs (empty for an unknown client)."""
    try:
        _, client = bk.pool_for_client(client_id)
    except JsonRESTError:
        return set()
    config = client.extended_config
    urls = [*(config.get("CallbackURLs") or []), *(config.get("LogoutURLs") or [])]
    return {_origin(u) for u in urls if u.startswith(("http://", "https://"))}


def for_client(request: Request, response: Response) -> Response:
    """Add Access-Control-Allow-Origin when the request's Origin is one of its client's."""
    response.vary.add("Origin")
    origin = request.headers.get("Origin")
    if origin and origin in allowed_origins(_client_id(request)):
        response.headers["Access-Control-Allow-Origin"] = origin
    return response
