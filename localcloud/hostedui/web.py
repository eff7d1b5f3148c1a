"""HTTP helpers shared by the hosted pages and the OAuth endpoints: rendering, CSRF, errors."""

from __future__ import annotations

import hmac
import json
import secrets
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from werkzeug.wrappers import Request, Response

SESSION_COOKIE = "cognito"
CSRF_COOKIE = "XSRF-TOKEN"
TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).with_name("templates")),
    autoescape=select_autoescape(["html"]),
)


def render(request: Request, template: str, status: int = 200, **context: Any) -> Response:
    """Render a page with a CSRF token (double-submit cookie, as Cognito's XSRF-TOKEN)."""
    csrf = request.cookies.get(CSRF_COOKIE)
    if not csrf or len(csrf) != 43:
        csrf = secrets.token_urlsafe(32)
    context.setdefault("error", None)
    context.setdefault("notice", None)
    html = TEMPLATES.get_template(template).render(csrf=csrf, **context)
    response = Response(html, status=status, content_type="text/html; charset=utf-8")
    response.set_cookie(CSRF_COOKIE, csrf, httponly=True, samesite="Lax", path="/")
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    return response


def error_page(request: Request, message: str, status: int = 400) -> Response:
    """The error page (for bad client_id / redirect_uri / logout_uri)."""
    return render(request, "error.html", status=status, message=message)


def csrf_ok(request: Request) -> bool:
    """Double-submit check of the form's _csrf against the cookie."""
    cookie = request.cookies.get(CSRF_COOKIE, "")
    sent = request.form.get("_csrf", "")
    return bool(cookie) and hmac.compare_digest(cookie.encode(), sent.encode())


def redirect(location: str) -> Response:
    """A 302 like Cognito's."""
    response = Response("", status=302)
    response.headers["Location"] = location
    response.headers["Cache-Control"] = "no-store"
    return response


def bearer_error(error: str, description: str) -> Response:
    """A 401 with the RFC 6750 WWW-Authenticate header."""
    response = Response(
        json.dumps({"error": error, "error_description": description}),
        status=401,
        content_type="application/json;charset=UTF-8",
    )
    response.headers["WWW-Authenticate"] = f'Bearer error="{error}", error_description="{description}"'
    return response


def oauth_error(error: str, status: int = 400, description: str | None = None) -> Response:
    """Cognito's token-endpoint error body."""
    body: dict[str, str] = {"error": error}
    if description:
        body["error_description"] = description
    response = Response(json.dumps(body), status=status, content_type="application/json;charset=UTF-8")
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Basic realm="localcloud"'
    return response


def no_store(response: Response) -> Response:
    """Token responses must not be cached (RFC 6749 §5.1)."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response
