"""CORS on /oauth2/token and /oauth2/revoke, so a single-page app can redeem and refresh its tokens.

Both are POSTs of a form with no custom header: "simple" requests a browser sends without a
preflight, then shows the answer to the page only if it carries ``Access-Control-Allow-Origin``.
That header is given to the origins (scheme://host:port) of the URLs registered for the client the
request names (CallbackURLs, LogoutURLs), never ``*``, with ``Vary: Origin``; no credentials (the
hosted UI's cookie is not involved). Cognito reportedly answers any origin; localcloud is stricter.

A request with another header is preflighted: Amplify JS v6 adds ``x-amz-user-agent`` to its token
request (aws-amplify/amplify-js, packages/auth/src/providers/cognito/utils/oauth/completeOAuthFlow.ts),
so Cognito must answer ``OPTIONS`` there or Amplify's redirect sign-in could not work in a browser.
A preflight names no client: it is allowed for the web origins of every client of the pool whose
domain this is (each Cognito domain belongs to one pool; here, the pool localcloud serves), for
``POST`` with ``Content-Type``, ``Authorization`` and ``x-amz-user-agent`` (which origins and
headers AWS allows is unconfirmed); the POST that follows is still answered per client, as above.

Registered URLs are compared by their origin as a browser serialises it (RFC 6454 §6.1): scheme and
host in lower case, the scheme's default port left out, so ``https://App.Example.com:443/cb``
allows ``Origin: https://app.example.com``.
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import urlsplit

from moto.cognitoidp.models import CognitoIdpUserPoolClient
from moto.core.exceptions import JsonRESTError
from werkzeug.wrappers import Request, Response

from localcloud.userpool import backend as bk

DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(url: str) -> str | None:
    """A URL's origin as a browser sends it (lower case, no default port); None if it has none."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname
    if scheme not in DEFAULT_PORTS or not host:
        return None
    host = f"[{host}]" if ":" in host else host
    return f"{scheme}://{host}" if port in (None, DEFAULT_PORTS[scheme]) else f"{scheme}://{host}:{port}"


def _web_origins(client: CognitoIdpUserPoolClient) -> set[str]:
    """The web origins of a client's registered URLs (CallbackURLs, LogoutURLs)."""
    config = client.extended_config
    urls = [*(config.get("CallbackURLs") or []), *(config.get("LogoutURLs") or [])]
    return {origin for origin in map(_origin, urls) if origin is not None}


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
    return _web_origins(client)


# Request headers a preflight may ask for: the form's type, client_secret_basic, Amplify's agent.
ALLOWED_HEADERS = ("authorization", "content-type", "x-amz-user-agent")


def _pool_origins(pool_id: str) -> set[str]:
    """The web origins of every client of one pool."""
    pool = bk.pool_by_id(pool_id)
    origins: set[str] = set()
    for client in pool.clients.values() if pool is not None else ():
        origins |= _web_origins(client)
    return origins


def preflight(request: Request, pool_id: str) -> Response:
    """OPTIONS: allow a POST from a web origin of the pool's clients with the allowed headers, else 403."""
    origin = request.headers.get("Origin", "")
    asked = {
        h.strip().lower()
        for h in request.headers.get("Access-Control-Request-Headers", "").split(",")
        if h.strip()
    }
    allowed = (
        request.headers.get("Access-Control-Request-Method") == "POST"
        and asked <= set(ALLOWED_HEADERS)
        and origin in _pool_origins(pool_id)
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
