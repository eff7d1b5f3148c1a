"""HTTP helpers shared by the hosted pages and the OAuth endpoints: rendering, CSRF, errors."""

from __future__ import annotations

import base64
import hmac
import json
import re
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from werkzeug.wrappers import Request, Response

from localcloud.userpool import services as sv

SESSION_COOKIE = "cognito"
CSRF_COOKIE = "XSRF-TOKEN"
TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).with_name("templates")),
    autoescape=select_autoescape(["html"]),
)
TEMPLATES.globals["branding"] = {"app_name": "localcloud", "logo": None, "colors": {}, "font": ""}


# The validated authorize request of the page being served (set by Pages.page): its client's
# callback gives the "Back to <app>" link, its pool the password rules shown up front.
AUTH_ENVIRON_KEY = "localcloud.authorize"
COLOR = re.compile(r"^#[0-9a-fA-F]{3}(?:[0-9a-fA-F]{3})?$")
LOGO_TYPES = {".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}
MAX_LOGO_BYTES = 100 * 1024


def install_branding(branding: dict[str, Any], base_dir: Path) -> None:
    """Managed-login branding for every page: checked here, as Cognito checks a branding style."""
    colors = branding.get("colors") or {}
    for name, value in colors.items():
        if not isinstance(value, str) or not COLOR.match(value):
            raise ValueError(f"branding colour {name!r} must be #rgb or #rrggbb, not {value!r}")
    font = str(branding.get("font") or "")
    if re.search(r"[<>{};\\]", font):
        raise ValueError("branding font must be a CSS font-family list")
    logo = None
    if branding.get("logo"):
        path = base_dir / str(branding["logo"])
        kind = LOGO_TYPES.get(path.suffix.lower())
        data = path.read_bytes()
        if kind is None or len(data) > MAX_LOGO_BYTES:
            raise ValueError(f"branding logo must be an SVG, PNG or JPEG of at most 100 KB: {path}")
        logo = f"data:{kind};base64,{base64.b64encode(data).decode()}"
    app_name = str(branding.get("app_name") or "localcloud")
    # The font list goes into a <style> as is (checked above: no <, >, {, }, ; or backslash).
    font_css = Markup(font)  # noqa: S704 - validated just above
    TEMPLATES.globals["branding"] = {"app_name": app_name, "logo": logo, "colors": colors, "font": font_css}


def _page_context(request: Request) -> dict[str, Any]:
    """The back link and password rules of the client and pool the page serves, when known."""
    auth = request.environ.get(AUTH_ENVIRON_KEY)
    if auth is None:
        return {"back_url": None, "password_rules": []}
    parts = urlsplit(auth.redirect_uri)  # registered for the client: safe to link to
    return {"back_url": f"{parts.scheme}://{parts.netloc}/", "password_rules": sv.password_rules(auth.pool)}


def render(request: Request, template: str, status: int = 200, **context: Any) -> Response:
    """Render a page with a CSRF token (double-submit cookie, as Cognito's XSRF-TOKEN)."""
    csrf = request.cookies.get(CSRF_COOKIE)
    if not csrf or len(csrf) != 43:
        csrf = secrets.token_urlsafe(32)
    context.setdefault("error", None)
    context.setdefault("notice", None)
    for key, value in _page_context(request).items():
        context.setdefault(key, value)
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
