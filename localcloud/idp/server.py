"""The fake providers' endpoints: authorize page, token, userinfo (Facebook: /me), JWKS, discovery.

Mounted under ``/_idp/<slug>/`` on the Cognito origin (behind its Host check). They keep their own
state (codes, access tokens) under their own lock and never take localcloud's, since Cognito's
/oauth2/idpresponse calls them over HTTP as it would call Google.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jwt
from jinja2 import Environment, FileSystemLoader, select_autoescape
from werkzeug.wrappers import Request, Response

from localcloud.idp.catalog import PREFIX, PROVIDERS, FakeProvider, for_provider
from localcloud.idp.credentials import Credentials, load_private

CODE_SECONDS = 120
TOKEN_SECONDS = 3600
CSRF_COOKIE = "idp-csrf"
# A typed account id (optional: the same id with another e-mail is an account whose e-mail changed).
ACCOUNT_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
APPLE_AUDIENCE = "https://appleid.apple.com"
TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).with_name("templates")), autoescape=select_autoescape(["html"])
)


@dataclass
class Grant:
    """An issued code or access token: who signed in, for which client."""

    slug: str
    client_id: str
    identity: dict[str, Any]
    expires: float
    redirect_uri: str = ""
    nonce: str | None = None
    scope: str = ""
    used: bool = False


class FakeIdPs:
    """Every fake provider's endpoints."""

    def __init__(self, credentials: Credentials, clients: dict[str, str],
                 identities: dict[str, list[dict[str, Any]]]) -> None:  # fmt: skip
        """clients: slug → the client id registered there (from the seed's identity providers)."""
        self.credentials = credentials
        self.clients = clients
        self.identities = identities
        self._codes: dict[str, Grant] = {}
        self._tokens: dict[str, Grant] = {}
        self._lock = threading.Lock()

    def __call__(self, request: Request) -> Response:
        """Route /_idp/<slug>/<endpoint>."""
        slug, _, endpoint = request.path[len(PREFIX) :].partition("/")
        provider = PROVIDERS.get(slug)
        handler = {
            "authorize": self.authorize,
            "token": self.token,
            "userinfo": self.userinfo,
            "me": self.userinfo,
            "jwks.json": self.jwks,
            ".well-known/openid-configuration": self.discovery,
        }.get(endpoint)
        # Facebook has the Graph API's /me and no OIDC userinfo; the others the reverse.
        wrong_api = endpoint in ("me", "userinfo") and (endpoint == "me") != (slug == "facebook")
        if provider is None or handler is None or wrong_api:
            return _json({"error": "not_found"}, 404)
        if provider.issuer is None and endpoint in ("jwks.json", ".well-known/openid-configuration"):
            return _json({"error": "not_found"}, 404)
        return handler(request, provider)

    # --- authorize ----------------------------------------------------------------------------
    def authorize(self, request: Request, provider: FakeProvider) -> Response:
        """The consent page: pick or type an identity, Continue or Cancel."""
        if request.method not in ("GET", "POST"):
            return _page_error(provider, "Method not allowed.", 405)
        args = request.args
        client_id, redirect_uri = args.get("client_id", ""), args.get("redirect_uri", "")
        registered = self.clients.get(provider.slug)
        if not registered or not hmac.compare_digest(client_id.encode(), registered.encode()):
            return _page_error(provider, "The OAuth client was not found (invalid_client).", 400)
        # The one redirect URI registered at the provider: Cognito's idpresponse on this origin.
        if redirect_uri != f"{request.scheme}://{request.host}/oauth2/idpresponse":
            return _page_error(provider, "redirect_uri_mismatch: redirect_uri is not registered.", 400)
        state = args.get("state")
        if args.get("response_type") != "code":
            return _redirect(redirect_uri, {"error": "unsupported_response_type"}, state)
        listed = self.identities.get(provider.slug, [])
        if request.method == "GET":
            return self._consent(request, provider, listed, {})
        if not _csrf_ok(request):
            return _page_error(provider, "Invalid or missing CSRF token; reload the page.", 403)
        if request.form.get("action") == "cancel":
            # Apple reports a cancel as user_cancelled_authorize; the others as access_denied.
            error = "user_cancelled_authorize" if provider.slug == "apple" else "access_denied"
            return _redirect(
                redirect_uri, {"error": error, "error_description": "The user cancelled."}, state
            )
        identity = self._chosen(request, provider, listed)
        if isinstance(identity, str):
            return self._consent(request, provider, listed, request.form, error=identity)
        code = secrets.token_urlsafe(32)
        with self._lock:
            self._forget_expired()
            self._codes[code] = Grant(provider.slug, client_id, identity, time.time() + CODE_SECONDS,
                                      redirect_uri, args.get("nonce"), args.get("scope", ""))  # fmt: skip
        return _redirect(redirect_uri, {"code": code}, state)

    def _consent(self, request: Request, provider: FakeProvider, listed: list[dict[str, Any]],
                 values: Any, error: str | None = None) -> Response:  # fmt: skip
        csrf = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(32)
        html = TEMPLATES.get_template("authorize.html").render(
            provider=provider, identities=listed, values=values, error=error, csrf=csrf,
            client_name=request.args.get("client_id", ""), action=request.full_path,
        )  # fmt: skip
        response = Response(html, status=400 if error else 200, content_type="text/html; charset=utf-8")
        response.set_cookie(CSRF_COOKIE, csrf, httponly=True, samesite="Lax", path=PREFIX)
        response.headers.update({"Cache-Control": "no-store", "X-Frame-Options": "DENY"})
        return response

    @staticmethod
    def _chosen(
        request: Request, provider: FakeProvider, listed: list[dict[str, Any]]
    ) -> dict[str, Any] | str:
        """The identity picked or typed (with its provider-shaped id), or an error message."""
        choice = request.form.get("identity", "custom")
        if choice != "custom":
            if not choice.isdigit() or int(choice) >= len(listed):
                return "Choose one of the listed accounts."
            spec = listed[int(choice)]
        else:
            email = request.form.get("email", "").strip()
            if email.count("@") != 1 or len(email) > 254 or any(c.isspace() for c in email):
                return "Type a valid e-mail address."
            sub = request.form.get("sub", "").strip()
            if sub and not ACCOUNT_ID.fullmatch(sub):
                return "An account id is 1-64 letters, digits, '.', '_' or '-'."
            spec = {"sub": sub, "name": request.form.get("name", "").strip()[:200], "email": email,
                    "email_verified": request.form.get("email_verified") == "true"}  # fmt: skip
        return {**spec, "sub": spec.get("sub") or provider.user_id(spec["email"])}

    # --- token --------------------------------------------------------------------------------
    def token(self, request: Request, provider: FakeProvider) -> Response:
        """Redeem a code (authorization_code grant), the client authenticated as this provider wants."""
        if request.method != "POST":
            return _json({"error": "invalid_request", "error_description": "POST only"}, 405)
        client_id = self._authenticated_client(request, provider)
        if client_id is None:
            return _json(
                {"error": "invalid_client", "error_description": "client authentication failed"}, 401
            )
        form = request.form
        if form.get("grant_type") != "authorization_code":
            return _json({"error": "unsupported_grant_type"}, 400)
        with self._lock:
            grant = self._codes.get(form.get("code", ""))
            if not _redeemable(grant, provider, client_id, form.get("redirect_uri")):
                return _json({"error": "invalid_grant", "error_description": "Bad or used code."}, 400)
            grant.used = True
            access_token = secrets.token_urlsafe(32)
            self._tokens[access_token] = Grant(
                provider.slug, client_id, grant.identity, time.time() + TOKEN_SECONDS
            )
        body: dict[str, Any] = {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": TOKEN_SECONDS,
        }
        if provider.issuer:
            body["id_token"] = self.id_token(provider, client_id, grant.identity, grant.nonce)
            body["scope"] = grant.scope
        response = _json(body, 200)
        response.headers["Cache-Control"] = "no-store"
        return response

    def _authenticated_client(self, request: Request, provider: FakeProvider) -> str | None:
        """The client id if its authentication is right (Basic or form secret; Apple: a signed JWT)."""
        registered = self.clients.get(provider.slug)
        client_id, secret = _basic(request) or (
            request.form.get("client_id", ""),
            request.form.get("client_secret", ""),
        )
        if not registered or not hmac.compare_digest(client_id.encode(), registered.encode()):
            return None
        if provider.slug == "apple":
            return client_id if self._apple_secret_ok(client_id, secret) else None
        expected = self.credentials.client_secrets[provider.slug]
        return client_id if hmac.compare_digest(secret.encode(), expected.encode()) else None

    def _apple_secret_ok(self, client_id: str, secret: str) -> bool:
        """Apple's client secret: an ES256 JWT by the developer key (iss team, sub client, aud Apple)."""
        key = self.credentials.apple_key
        try:
            header = jwt.get_unverified_header(secret)
            claims = jwt.decode(secret, self.credentials.apple_public_key(), algorithms=["ES256"],
                                audience=APPLE_AUDIENCE, issuer=key["team_id"],
                                options={"require": ["exp", "iat", "sub"]})  # fmt: skip
        except jwt.PyJWTError:
            return False
        return header.get("kid") == key["key_id"] and claims.get("sub") == client_id

    def id_token(
        self, provider: FakeProvider, client_id: str, identity: dict[str, Any], nonce: str | None
    ) -> str:
        """The provider's signed ID token."""
        now = int(time.time())
        verified = bool(identity.get("email_verified"))
        claims: dict[str, Any] = {
            "iss": provider.issuer, "aud": client_id, "sub": identity["sub"], "iat": now,
            "exp": now + TOKEN_SECONDS, "auth_time": now, "email": identity["email"],
            # Apple sends the flag as a string, Google and most OIDC providers as a boolean.
            "email_verified": ("true" if verified else "false") if provider.slug == "apple" else verified,
        }  # fmt: skip
        if provider.slug != "apple" and identity.get("name"):
            claims.update(_names(identity["name"]))
        if nonce:
            claims["nonce"] = nonce
        signing = self.credentials.signing_key(provider.slug)
        return jwt.encode(
            claims, load_private(signing["pem"]), algorithm="RS256", headers={"kid": signing["kid"]}
        )

    # --- userinfo, jwks, discovery --------------------------------------------------------------
    def userinfo(self, request: Request, provider: FakeProvider) -> Response:
        """OIDC userinfo (Facebook: Graph /me with ?fields=) for a live access token."""
        auth = request.headers.get("Authorization", "")
        token = auth[7:] if auth[:7].lower() == "bearer " else request.values.get("access_token", "")
        with self._lock:
            grant = self._tokens.get(token)
        if grant is None or grant.slug != provider.slug or grant.expires < time.time():
            return _json({"error": "invalid_token"}, 401)
        identity = grant.identity
        if provider.slug == "facebook":
            # The Graph API: id, name, email; no e-mail verification flag at all.
            fields = set((request.args.get("fields") or "id,name").split(","))
            full = {"id": identity["sub"], "name": identity.get("name") or "", "email": identity["email"]}
            return _json({k: v for k, v in full.items() if k in fields | {"id"}}, 200)
        info = {"sub": identity["sub"], "email": identity["email"],
                "email_verified": bool(identity.get("email_verified"))}  # fmt: skip
        if identity.get("name"):
            info.update(_names(identity["name"]))
        return _json(info, 200)

    def jwks(self, request: Request, provider: FakeProvider) -> Response:
        """The provider's public signing key."""
        return _json(self.credentials.jwks(provider.slug), 200)

    def discovery(self, request: Request, provider: FakeProvider) -> Response:
        """OpenID Provider metadata; issuer is the provider's string, endpoints on this origin."""
        base = provider.base(f"{request.scheme}://{request.host}")
        return _json({
            "issuer": provider.issuer, "authorization_endpoint": f"{base}/authorize",
            "token_endpoint": f"{base}/token", "userinfo_endpoint": f"{base}/userinfo",
            "jwks_uri": f"{base}/jwks.json", "response_types_supported": ["code"],
            "subject_types_supported": ["public"], "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        }, 200)  # fmt: skip

    def _forget_expired(self) -> None:
        now = time.time()
        for table in (self._codes, self._tokens):
            for key in [k for k, g in table.items() if g.expires < now - 600]:
                del table[key]


def clients_from_config(providers: list[dict[str, Any]], credentials: Credentials) -> dict[str, str]:
    """slug → client id, for the seeded identity providers that a fake stands in for."""
    clients: dict[str, str] = {}
    for spec in providers:
        fake = for_provider(spec.get("ProviderType", ""), spec.get("ProviderDetails") or {})
        if fake is not None:
            clients[fake.slug] = spec["ProviderDetails"]["client_id"]
    return clients


def _redeemable(
    grant: Grant | None, provider: FakeProvider, client_id: str, redirect_uri: str | None
) -> bool:
    """A live, unused code of this provider, issued to this client for this redirect_uri."""
    return (
        grant is not None
        and not grant.used
        and grant.expires >= time.time()
        and grant.slug == provider.slug
        and grant.client_id == client_id
        and grant.redirect_uri == redirect_uri
    )


def _names(name: str) -> dict[str, str]:
    given, _, family = name.partition(" ")
    return {"name": name, "given_name": given, **({"family_name": family} if family else {})}


def _basic(request: Request) -> tuple[str, str] | None:
    auth = request.headers.get("Authorization", "")
    if auth[:6].lower() != "basic ":
        return None
    try:
        client_id, _, secret = base64.b64decode(auth[6:], validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return ("", "")
    return client_id, secret


def _csrf_ok(request: Request) -> bool:
    cookie = request.cookies.get(CSRF_COOKIE, "")
    return bool(cookie) and hmac.compare_digest(cookie.encode(), request.form.get("_csrf", "").encode())


def _redirect(uri: str, params: dict[str, str], state: str | None) -> Response:
    if state is not None:
        params = {**params, "state": state}
    response = Response("", status=302)
    response.headers["Location"] = f"{uri}?{urlencode(params)}"
    response.headers["Cache-Control"] = "no-store"
    return response


def _page_error(provider: FakeProvider, message: str, status: int) -> Response:
    html = TEMPLATES.get_template("error.html").render(label=provider.label, message=message)
    return Response(html, status=status, content_type="text/html; charset=utf-8",
                    headers={"X-Frame-Options": "DENY", "Cache-Control": "no-store"})  # fmt: skip


def _json(body: dict[str, Any], status: int) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json;charset=UTF-8")
