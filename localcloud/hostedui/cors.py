"""CORS on /oauth2/token and /oauth2/revoke, so a single-page app can redeem and refresh its tokens.

Both are POSTs of a form with no custom header: "simple" requests a browser sends without a
preflight, then shows the answer to the page only if it carries ``Access-Control-Allow-Origin``.
That header is given to the origins (scheme://host:port) of the URLs registered for the client the
request names (CallbackURLs, LogoutURLs), never ``*``, with ``Vary: Origin``; no credentials (the
hosted UI's cookie is not involved). Cognito reportedly answers any origin; localcloud is stricter.

A request with another header is preflighted: Amplify JS v6 adds ``x-amz-user-agent`` to its token
request (aws-amplify/amplify-js, packages/auth/src/providers/cognito/utils/oauth/completeOAuthFlow.ts),
so Cognito must answer ``OPTIONS`` there or Amplify's redirect sign-in could not work in a browser.
A preflight names no client: it is allowed for the web origins of every client of the pools here,
for ``POST`` with ``Content-Type``, ``Authorization`` and ``x-amz-user-agent`` (which origins and
headers AWS allows is unconfirmed); the POST that follows is still answered per client, as above.
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


# Request headers a preflight may ask for: the form's type, client_secret_basic, Amplify's agent.
ALLOWED_HEADERS = ("authorization", "content-type", "x-amz-user-agent")


def _client_origins() -> set[str]:
    """The web origins of every client's registered URLs, in every pool."""
    origins: set[str] = set()
    for pool in bk.all_pools():
        for client in pool.clients.values():
            config = client.extended_config
            urls = [*(config.get("CallbackURLs") or []), *(config.get("LogoutURLs") or [])]
            origins |= {_origin(u) for u in urls if u.startswith(("http://", "https://"))}
    return origins


def preflight(request: Request) -> Response:
    """OPTIONS: allow a POST from a registered web origin with the allowed headers, else 403."""
    origin = request.headers.get("Origin", "")
    asked = {
        h.strip().lower()
        for h in request.headers.get("Access-Control-Request-Headers", "").split(",")
        if h.strip()
    }
    allowed = (
        request.headers.get("Access-Control-Request-Method") == "POST"
        and asked <= set(ALLOWED_HEADERS)
        and origin in _client_origins()
    )
    response = Response(status=204 if allowed else 403)
    response.vary.update(("Origin", "Access-Control-Request-Method", "Access-Control-Request-Headers"))
    if allowed:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Methods"] = "POST"
        response.headers["Access-Control-Allow-Headers"] = ", ".join(ALLOWED_HEADERS)
        response.headers["Access-Control-Max-Age"] = "600"
    return response


def for_client(request: Request, response: Response) -> Response:
    """Add Access-Control-Allow-Origin when the request's Origin is one of its client's."""
    response.vary.add("Origin")
    origin = request.headers.get("Origin")
    if origin and origin in allowed_origins(_client_id(request)):
        response.headers["Access-Control-Allow-Origin"] = origin
    return response
