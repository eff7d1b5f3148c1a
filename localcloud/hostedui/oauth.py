"""The hosted UI's OAuth2/OIDC endpoints: /oauth2/token, /oauth2/userInfo, /oauth2/revoke, /logout."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import time
from typing import Any

from moto.core.exceptions import JsonRESTError
from werkzeug.wrappers import Request, Response

from localcloud import moto_adapter as moto
from localcloud.hostedui import cors
from localcloud.hostedui.flow import ErrorPage, RedirectError, parse_authorize
from localcloud.hostedui.stores import AuthCode, CodeStore, SessionStore
from localcloud.hostedui.web import SESSION_COOKIE, bearer_error, error_page, no_store, oauth_error, redirect
from localcloud.userpool import backend as bk
from localcloud.userpool import services as sv
from localcloud.userpool.models import LocalUserPool

# RFC 7636 §4.1: code_verifier = 43*128unreserved. A shorter one is guessable whatever its hash.
PKCE_VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")


class OAuthEndpoints:
    """Token, userInfo, revocation and logout, over the codes and sessions the pages create."""

    def __init__(self, codes: CodeStore, sessions: SessionStore, pool_id: str) -> None:
        """Share the stores with the pages; pool_id: the pool whose domain this is (CORS preflight)."""
        self.codes = codes
        self.sessions = sessions
        self.pool_id = pool_id

    def routes(self) -> dict[str, Any]:
        """Path → handler."""
        return {
            "/oauth2/token": self.token,
            "/oauth2/userInfo": self.userinfo,
            "/oauth2/revoke": self.revoke,
            "/logout": self.logout,
        }

    # --- /logout ----------------------------------------------------------------------------------
    def logout(self, request: Request) -> Response:
        """Cognito's /logout: logout_uri form, or the redirect_uri form that shows sign-in."""
        if request.method != "GET":
            return error_page(request, "Method not allowed.", 405)
        args = request.args
        if any(len(args.getlist(k)) > 1 for k in ("client_id", "logout_uri", "redirect_uri")):
            return error_page(request, "Invalid request: repeated parameter.")
        try:
            pool, client = bk.pool_for_client(args.get("client_id", ""))
        except JsonRESTError:
            return error_page(request, "Invalid request: client_id is missing or unknown.")
        logout_uri = args.get("logout_uri")
        if logout_uri is not None:
            if logout_uri not in (client.extended_config.get("LogoutURLs") or []):
                return error_page(request, "Invalid request: logout_uri is not registered for this client.")
            response = redirect(logout_uri)
        elif args.get("redirect_uri") and args.get("response_type"):
            try:
                auth = parse_authorize(args)
            except ErrorPage as exc:
                return error_page(request, exc.message, exc.status)
            except RedirectError as exc:
                return redirect(exc.url)
            response = redirect("/login?" + auth.query)
        else:
            return error_page(request, "Invalid request: logout_uri or redirect_uri is required.")
        sid = request.cookies.get(SESSION_COOKIE)
        if sid:
            self.sessions.end(sid)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    # --- client authentication (token, revoke) ----------------------------------------------------
    def client_auth(self, request: Request) -> tuple[LocalUserPool, Any] | Response:
        """client_secret_basic or client_secret_post (or a public client's client_id)."""
        header = request.headers.get("Authorization", "")
        form = request.form
        basic = header.startswith("Basic ")
        if basic:
            try:
                raw = base64.b64decode(header[6:].strip(), validate=True).decode()
                client_id, _, secret = raw.partition(":")
            except (binascii.Error, UnicodeDecodeError, ValueError):
                return oauth_error("invalid_client", 401)
            if "client_secret" in form or (form.get("client_id") not in (None, client_id)):
                return oauth_error("invalid_request", 400, "conflicting client credentials")
        else:
            client_id = form.get("client_id", "")
            secret = form.get("client_secret")
        try:
            pool, client = bk.pool_for_client(client_id)
        except JsonRESTError:
            return oauth_error("invalid_client", 401 if basic else 400)
        if client.generate_secret:
            if not secret or not hmac.compare_digest(secret.encode(), client.secret.encode()):
                return oauth_error("invalid_client", 401 if basic else 400)
        elif basic or secret is not None:
            # A public client has no secret: one sent anyway is not a credential it could hold.
            return oauth_error("invalid_client", 401 if basic else 400, "client has no secret")
        return pool, client

    def authenticated_form(
        self, request: Request, names: tuple[str, ...]
    ) -> tuple[LocalUserPool, Any] | Response:
        """A well-formed form from an authenticated client: (pool, client), or the OAuth error."""
        problem = self.form_problem(request, names)
        if problem:
            return problem
        return self.client_auth(request)

    @staticmethod
    def form_problem(request: Request, names: tuple[str, ...]) -> Response | None:
        """Reject non-form bodies and repeated parameters (invalid_request)."""
        if request.method != "POST":
            return oauth_error("invalid_request", 405, "POST required")
        if request.mimetype != "application/x-www-form-urlencoded":
            return oauth_error(
                "invalid_request", 400, "Content-Type must be application/x-www-form-urlencoded"
            )
        for name in names:
            if len(request.form.getlist(name)) > 1:
                return oauth_error("invalid_request", 400, f"{name} was given more than once")
        return None

    # --- /oauth2/token ----------------------------------------------------------------------------
    def token(self, request: Request) -> Response:
        """The token endpoint, readable by the client's own web origins (CORS)."""
        if request.method == "OPTIONS":
            return cors.preflight(request, self.pool_id)
        return cors.for_client(request, self._token(request))

    def _token(self, request: Request) -> Response:
        """The token endpoint: authorization_code and refresh_token grants."""
        authed = self.authenticated_form(
            request, ("grant_type", "code", "redirect_uri", "code_verifier", "refresh_token",
                      "client_id", "client_secret", "scope"),
        )  # fmt: skip
        if isinstance(authed, Response):
            return authed
        pool, client = authed
        grant = request.form.get("grant_type")
        if not grant:
            return oauth_error("invalid_request", 400, "grant_type is required")
        if grant == "authorization_code":
            return no_store(self._code_grant(request, pool, client))
        if grant == "refresh_token":
            return no_store(self._refresh_grant(request, pool, client))
        if grant == "client_credentials":
            return oauth_error("unauthorized_client")
        return oauth_error("unsupported_grant_type")

    def _code_grant(self, request: Request, pool: LocalUserPool, client: Any) -> Response:
        form = request.form
        code = form.get("code")
        if not code:
            return oauth_error("invalid_request", 400, "code is required")
        entry = self._redeem(code, pool, client)
        if entry is None or form.get("redirect_uri") != entry.redirect_uri:
            return oauth_error("invalid_grant")
        if entry.code_challenge and not _pkce_verified(form.get("code_verifier") or "", entry.code_challenge):
            return oauth_error("invalid_grant")
        user = moto.get_user(pool, entry.username)
        if user is None or not user.enabled:
            return oauth_error("invalid_grant")
        tokens = sv.issue_tokens(
            pool,
            client,
            user,
            scopes=entry.scopes,
            nonce=entry.nonce,
            auth_time=entry.auth_time,
            federated=entry.federated,
        )
        issued = moto.refresh_entry(pool, tokens["RefreshToken"])
        entry.origin_jti = issued.origin_jti if issued else None
        body = {}
        if "IdToken" in tokens:
            body["id_token"] = tokens["IdToken"]
        body.update({"access_token": tokens["AccessToken"], "refresh_token": tokens["RefreshToken"],
                     "expires_in": tokens["ExpiresIn"], "token_type": "Bearer"})  # fmt: skip
        return Response(json.dumps(body), content_type="application/json;charset=UTF-8")

    def _redeem(self, code: str, pool: LocalUserPool, client: Any) -> AuthCode | None:
        """The code's entry, now used; None if unknown, another client's, already used or expired."""
        entry = self.codes.get(code)
        if entry is None or entry.client_id != client.id:
            return None
        if entry.used:
            # RFC 6749 §4.1.2: a replayed code revokes what it issued.
            if entry.origin_jti:
                pool.revoke_origin(entry.origin_jti)
            return None
        entry.used = True
        if entry.expires < time.time():
            return None
        return entry

    def _refresh_grant(self, request: Request, pool: LocalUserPool, client: Any) -> Response:
        token = request.form.get("refresh_token")
        if not token:
            return oauth_error("invalid_request", 400, "refresh_token is required")
        entry = moto.refresh_entry(pool, token)
        if not moto.refresh_token_known(pool, token) or (entry is not None and entry.client_id != client.id):
            return oauth_error("invalid_grant")
        try:
            origin_jti, origin = pool.refresh_origin(token)
        except JsonRESTError:
            return oauth_error("invalid_grant")
        access, expires_in = pool.create_access_token(client.id, origin.username, origin_jti)
        body: dict[str, Any] = {}
        if "openid" in origin.scopes:
            body["id_token"], _ = pool.create_id_token(client.id, origin.username, origin_jti)
        body.update({"access_token": access, "expires_in": expires_in, "token_type": "Bearer"})
        return Response(json.dumps(body), content_type="application/json;charset=UTF-8")

    # --- /oauth2/userInfo -------------------------------------------------------------------------
    def userinfo(self, request: Request) -> Response:
        """OIDC userInfo: claims by scope; verified flags as strings."""
        if request.method not in ("GET", "POST"):
            return oauth_error("invalid_request", 405)
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer ") or not header[7:].strip():
            return bearer_error("invalid_request", "Bearer access token required")
        try:
            pool, claims = bk.verify_access_token(header[7:].strip())
        except JsonRESTError as exc:
            return bearer_error("invalid_token", exc.message)
        scopes = str(claims.get("scope", "")).split()
        if "openid" not in scopes:
            return bearer_error("invalid_token", "Access token does not contain openid scope")
        user = pool.user(claims["username"])
        readable = set(pool.clients[claims["client_id"]].get_readable_fields())
        attrs = {k: v for k, v in user.attribute_lookup.items() if not readable or k in readable}
        body: dict[str, Any] = {"sub": user.id}
        if "profile" in scopes:
            body.update(attrs)
        if "email" in scopes:
            body.update({k: attrs[k] for k in ("email", "email_verified") if k in attrs})
        if "phone" in scopes:
            body.update({k: attrs[k] for k in ("phone_number", "phone_number_verified") if k in attrs})
        body["sub"] = user.id
        body["username"] = user.username
        for flag in ("email_verified", "phone_number_verified"):
            if flag in body:
                body[flag] = "true" if str(body[flag]).lower() == "true" else "false"
        return Response(json.dumps(body), content_type="application/json;charset=UTF-8")

    # --- /oauth2/revoke ---------------------------------------------------------------------------
    def revoke(self, request: Request) -> Response:
        """Revocation, readable by the client's own web origins (CORS)."""
        return cors.for_client(request, self._revoke(request))

    def _revoke(self, request: Request) -> Response:
        """RFC 7009 revocation of refresh tokens (access tokens: unsupported_token_type)."""
        authed = self.authenticated_form(request, ("token", "client_id", "client_secret", "token_type_hint"))
        if isinstance(authed, Response):
            return authed
        pool, client = authed
        token = request.form.get("token")
        if not token:
            return oauth_error("invalid_request", 400, "token is required")
        if token.count(".") == 2 and not token.startswith("lc."):
            return oauth_error("unsupported_token_type")
        entry = moto.refresh_entry(pool, token)
        if entry is not None:
            if entry.client_id != client.id:
                return oauth_error("invalid_grant", 400, "token was not issued to this client")
            pool.revoke_origin(entry.origin_jti)
        return Response("", status=200)


def _pkce_verified(verifier: str, challenge: str) -> bool:
    """RFC 7636 §4.6: BASE64URL(SHA256(code_verifier)) equals the S256 code_challenge.

    A verifier outside §4.1 (43–128 unreserved characters) never matches: invalid_grant, as for a
    wrong one (RFC 6749 §5.2; cognito-reference.md "PKCE verifier mismatch").
    """
    if not PKCE_VERIFIER.fullmatch(verifier):
        return False
    digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    return hmac.compare_digest(digest.decode(), challenge)
