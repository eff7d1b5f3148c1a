"""Hosted-UI pages (/login, /signup, /confirm, ...) and OAuth2 endpoints, as classic Cognito."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import segno
from jinja2 import Environment, FileSystemLoader, select_autoescape
from moto.cognitoidp.models import CognitoIdpUser, UserStatus
from moto.core.exceptions import JsonRESTError
from werkzeug.wrappers import Request, Response

from localcloud import moto_adapter as moto
from localcloud import outbox
from localcloud.config import Config
from localcloud.hostedui.flow import (
    AuthorizeRequest,
    ErrorPage,
    RedirectError,
    add_query,
    parse_authorize,
)
from localcloud.userpool import backend as bk
from localcloud.userpool import services as sv
from localcloud.userpool.models import LocalUserPool

SESSION_COOKIE = "cognito"
CSRF_COOKIE = "XSRF-TOKEN"
TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).with_name("templates")),
    autoescape=select_autoescape(["html"]),
)
FIELD_LABELS = {"name": "Name", "given_name": "Given name", "family_name": "Family name"}


@dataclass
class AuthCode:
    """An issued authorization code (single use, short-lived)."""

    pool_id: str
    client_id: str
    redirect_uri: str
    username: str
    scopes: list[str]
    nonce: str | None
    code_challenge: str | None
    auth_time: int
    expires: float
    used: bool = False
    origin_jti: str | None = None


@dataclass
class HostedSession:
    """The hosted-UI sign-in session behind the cookie."""

    pool_id: str
    username: str
    auth_time: int
    expires: float


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


class HostedUI:
    """State and handlers of the hosted UI: codes, sessions, pages."""

    def __init__(self, config: Config) -> None:
        """Remember the lifetimes from the config."""
        self.config = config
        self.codes: dict[str, AuthCode] = {}
        self.sessions: dict[str, HostedSession] = {}

    # --- plumbing ---------------------------------------------------------------------------------
    def routes(self) -> dict[str, Any]:
        """Path → handler."""
        return {
            "/oauth2/authorize": self.authorize,
            "/authorize": self.authorize,
            "/login": self.login,
            "/signup": self.signup,
            "/confirm": self.confirm,
            "/resendcode": self.resend_code,
            "/forgotPassword": self.forgot_password,
            "/confirmforgotPassword": self.confirm_forgot_password,
            "/oauth2/token": self.token,
            "/oauth2/userInfo": self.userinfo,
            "/oauth2/revoke": self.revoke,
            "/logout": self.logout,
        }

    def render(self, request: Request, template: str, status: int = 200, **context: Any) -> Response:
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

    def error_page(self, request: Request, message: str, status: int = 400) -> Response:
        """The error page (for bad client_id / redirect_uri / logout_uri)."""
        return self.render(request, "error.html", status=status, message=message)

    @staticmethod
    def csrf_ok(request: Request) -> bool:
        """Double-submit check of the form's _csrf against the cookie."""
        cookie = request.cookies.get(CSRF_COOKIE, "")
        sent = request.form.get("_csrf", "")
        return bool(cookie) and hmac.compare_digest(cookie.encode(), sent.encode())

    def flow(self, request: Request) -> AuthorizeRequest:
        """The authorize parameters of a hosted page (from its query string)."""
        return parse_authorize(request.args)

    def page(self, request: Request, handler: Any) -> Response:
        """Run a hosted page with the shared error handling."""
        if request.method not in ("GET", "POST"):
            return self.error_page(request, "Method not allowed.", 405)
        try:
            auth = self.flow(request)
            if request.method == "POST" and not self.csrf_ok(request):
                return self.error_page(request, "Invalid or missing CSRF token; reload the page.", 403)
            return handler(request, auth)
        except ErrorPage as exc:
            return self.error_page(request, exc.message, exc.status)
        except RedirectError as exc:
            return redirect(exc.url)

    # --- session and code -------------------------------------------------------------------------
    def current_session(self, request: Request, pool: LocalUserPool) -> tuple[str, HostedSession] | None:
        """The live hosted-UI session for this pool, if the cookie names one."""
        sid = request.cookies.get(SESSION_COOKIE)
        session = self.sessions.get(sid or "")
        if session is None or session.expires < time.time() or session.pool_id != pool.id:
            return None
        user = moto.get_user(pool, session.username)
        if user is None or not user.enabled or user.status is not UserStatus.CONFIRMED:
            return None
        return str(sid), session

    def finish(self, auth: AuthorizeRequest, user: CognitoIdpUser, auth_time: int | None = None,
               new_session: bool = True) -> Response:  # fmt: skip
        """Issue a code, redirect to the client, and (re)start the session cookie."""
        now = time.time()
        auth_time = auth_time or int(now)
        for key in [k for k, c in self.codes.items() if c.expires < now - 3600]:
            del self.codes[key]
        code = str(uuid.uuid4())
        self.codes[code] = AuthCode(
            pool_id=auth.pool.id,
            client_id=auth.client.id,
            redirect_uri=auth.redirect_uri,
            username=user.username,
            scopes=auth.scopes,
            nonce=auth.nonce,
            code_challenge=auth.code_challenge,
            auth_time=auth_time,
            expires=now + self.config.authorization_code_seconds,
        )
        params = {"code": code}
        if auth.state is not None:
            params["state"] = auth.state
        response = redirect(add_query(auth.redirect_uri, params))
        if new_session:
            sid = secrets.token_urlsafe(32)
            self.sessions[sid] = HostedSession(
                auth.pool.id, user.username, auth_time, now + self.config.session_seconds
            )
            response.set_cookie(
                SESSION_COOKIE, sid, max_age=self.config.session_seconds,
                httponly=True, samesite="Lax", path="/",
            )  # fmt: skip
        return response

    # --- /oauth2/authorize ------------------------------------------------------------------------
    def authorize(self, request: Request) -> Response:
        """Validate, then either reuse the session (skip the form) or go to /login."""
        if request.method != "GET":
            return self.error_page(request, "Method not allowed.", 405)
        try:
            auth = parse_authorize(request.args)
        except ErrorPage as exc:
            return self.error_page(request, exc.message, exc.status)
        except RedirectError as exc:
            return redirect(exc.url)
        found = self.current_session(request, auth.pool)
        if found is not None:
            _, session = found
            return self.finish(auth, auth.pool.user(session.username), session.auth_time, new_session=False)
        return redirect("/login?" + auth.query)

    # --- /login (password, new password, TOTP, TOTP set-up) ---------------------------------------
    def login(self, request: Request) -> Response:
        """The sign-in page and its challenge steps."""
        return self.page(request, self._login)

    def _login(self, request: Request, auth: AuthorizeRequest) -> Response:
        if request.method == "GET":
            return self.render(request, "login.html", query=auth.query, username=auth.login_hint or "",
                               notice=_notice(request))  # fmt: skip
        step = request.form.get("step", "password")
        if step == "password":
            return self._password_step(request, auth)
        try:
            challenge = sv.get_challenge(request.form.get("session"), auth.client.id)
        except JsonRESTError:
            return self.render(request, "login.html", query=auth.query, username="",
                               error="Your session has expired. Please sign in again.")  # fmt: skip
        user = auth.pool.user(challenge.username)
        session = request.form.get("session", "")
        try:
            if step == "new_password" and challenge.name == "NEW_PASSWORD_REQUIRED":
                password = request.form.get("password", "")
                if password != request.form.get("password2", password):
                    raise sv.error("InvalidPasswordException", "Passwords do not match.")
                errors = sv.password_errors(auth.pool, password)
                if errors:
                    return self._challenge_page(request, auth, user, challenge.name, session,
                                                policy_errors=errors)  # fmt: skip
                sv.set_new_password(auth.pool, user, password)
            elif step == "mfa" and challenge.name == "SOFTWARE_TOKEN_MFA":
                sv.check_totp(user, request.form.get("code", ""))
            elif step == "mfa_setup" and challenge.name == "MFA_SETUP":
                sv.verify_new_totp(user, request.form.get("code", ""))
                sv.set_mfa_preference(user, {"Enabled": True, "PreferredMfa": True})
            else:
                raise sv.error("InvalidParameterException", "Unexpected sign-in step.")
        except JsonRESTError as exc:
            return self._challenge_page(request, auth, user, challenge.name, session, error=exc.message)
        sv.end_challenge(session)
        return self._after_password(request, auth, user, mfa_done=step != "new_password")

    def _password_step(self, request: Request, auth: AuthorizeRequest) -> Response:
        username = request.form.get("username", "").strip()
        try:
            user = sv.authenticate(auth.pool, username, request.form.get("password", ""))
        except JsonRESTError as exc:
            if exc.error_type == "UserNotConfirmedException":
                user = auth.pool.user(username)
                sv.send_signup_code(user)
                return redirect("/confirm?" + _with(auth, username=username))
            if exc.error_type == "PasswordResetRequiredException":
                sv.forgot_password(auth.pool, username)
                return redirect("/confirmforgotPassword?" + _with(auth, username=username))
            return self.render(request, "login.html", status=400, query=auth.query,
                               username=username, error=exc.message)  # fmt: skip
        return self._after_password(request, auth, user)

    def _after_password(
        self, request: Request, auth: AuthorizeRequest, user: CognitoIdpUser, mfa_done: bool = False
    ) -> Response:
        challenge = sv.next_challenge(auth.pool, user, mfa_done=mfa_done)
        if challenge is None:
            return self.finish(auth, user)
        session = sv.start_challenge(auth.pool, auth.client.id, user, challenge)
        return self._challenge_page(request, auth, user, challenge, session)

    def _challenge_page(self, request: Request, auth: AuthorizeRequest, user: CognitoIdpUser,
                        name: str, session: str, **context: Any) -> Response:  # fmt: skip
        if name == "NEW_PASSWORD_REQUIRED":
            return self.render(request, "new_password.html", query=auth.query, session=session,
                               email=sv.user_email(user), **context)  # fmt: skip
        if name == "SOFTWARE_TOKEN_MFA":
            return self.render(request, "mfa.html", query=auth.query, session=session, **context)
        secret = sv.user_state(user).totp_pending_secret or sv.new_totp_secret(user)
        uri = f"otpauth://totp/localcloud:{sv.user_email(user)}?secret={secret}&issuer=localcloud"
        qr_svg = segno.make(uri).svg_inline(scale=4)
        return self.render(request, "mfa_setup.html", query=auth.query, session=session,
                           secret=secret, qr_svg=qr_svg, **context)  # fmt: skip

    # --- /signup, /confirm, /resendcode -----------------------------------------------------------
    def signup(self, request: Request) -> Response:
        """Sign-up page."""
        return self.page(request, self._signup)

    def _signup_fields(self, auth: AuthorizeRequest) -> list[dict[str, Any]]:
        writable = auth.client.extended_config.get("WriteAttributes")
        fields = []
        for attr in auth.pool.schema_attributes.values():
            name = attr.name
            if name in ("email", "email_verified", "sub") or (writable is not None and name not in writable):
                continue
            label = FIELD_LABELS.get(name, name.removeprefix("custom:").replace("_", " ").capitalize())
            fields.append({"name": name, "label": label, "required": bool(attr.required)})
        return fields

    def _signup(self, request: Request, auth: AuthorizeRequest) -> Response:
        fields = self._signup_fields(auth)
        if request.method == "GET":
            return self.render(request, "signup.html", query=auth.query, fields=fields, values={})
        form = request.form
        email = (form.get("email") or form.get("username") or "").strip()
        values = {f["name"]: form.get(f["name"], "").strip() for f in fields}
        attrs = {k: v for k, v in values.items() if v}
        context = {"query": auth.query, "fields": fields, "values": {"email": email, **values}}
        errors = sv.password_errors(auth.pool, form.get("password", ""))
        if errors:
            return self.render(request, "signup.html", status=400, policy_errors=errors,
                               error="Password did not conform with policy", **context)  # fmt: skip
        try:
            sv.sign_up(auth.pool, auth.client, email, form.get("password", ""), attrs)
        except JsonRESTError as exc:
            return self.render(request, "signup.html", status=400, error=exc.message, **context)
        return redirect("/confirm?" + _with(auth, username=email))

    def confirm(self, request: Request) -> Response:
        """Confirmation-code page."""
        return self.page(request, self._confirm)

    def _confirm(self, request: Request, auth: AuthorizeRequest) -> Response:
        username = (request.form.get("username") if request.method == "POST" else None) or request.args.get(
            "username", ""
        )
        context = {"query": _with(auth), "username": username, "destination": sv.mask(username)}
        if request.method == "GET":
            return self.render(request, "confirm.html", notice=_notice(request), **context)
        try:
            sv.confirm_sign_up(auth.pool, username, request.form.get("code", ""),
                               hide_existence=sv.hides_existence(auth.client))  # fmt: skip
        except JsonRESTError as exc:
            return self.render(request, "confirm.html", status=400, error=exc.message, **context)
        return redirect("/login?" + _with(auth, notice="confirmed"))

    def resend_code(self, request: Request) -> Response:
        """Send a new sign-up code (POST from the confirm page)."""
        return self.page(request, self._resend)

    def _resend(self, request: Request, auth: AuthorizeRequest) -> Response:
        username = request.form.get("username") or request.args.get("username", "")
        if request.method == "POST":
            try:
                sv.resend_code(auth.pool, username, hide_existence=sv.hides_existence(auth.client))
            except JsonRESTError:
                pass  # never reveal whether the account exists
        return redirect("/confirm?" + _with(auth, username=username, notice="resent"))

    # --- /forgotPassword, /confirmforgotPassword --------------------------------------------------
    def forgot_password(self, request: Request) -> Response:
        """Ask for a reset code."""
        return self.page(request, self._forgot)

    def _forgot(self, request: Request, auth: AuthorizeRequest) -> Response:
        if request.method == "GET":
            return self.render(request, "forgot.html", query=auth.query, username=auth.login_hint or "")
        username = request.form.get("username", "").strip()
        try:
            sv.forgot_password(auth.pool, username, hide_existence=sv.hides_existence(auth.client))
        except JsonRESTError as exc:
            return self.render(request, "forgot.html", status=400, query=auth.query,
                               username=username, error=exc.message)  # fmt: skip
        return redirect("/confirmforgotPassword?" + _with(auth, username=username))

    def confirm_forgot_password(self, request: Request) -> Response:
        """Reset with the code and the new password twice."""
        return self.page(request, self._confirm_forgot)

    def _confirm_forgot(self, request: Request, auth: AuthorizeRequest) -> Response:
        username = (request.form.get("username") if request.method == "POST" else None) or request.args.get(
            "username", ""
        )
        context = {"query": _with(auth), "username": username, "destination": sv.mask(username)}
        if request.method == "GET":
            return self.render(request, "confirm_forgot.html", **context)
        password = request.form.get("password", "")
        if password != request.form.get("password2", ""):
            return self.render(request, "confirm_forgot.html", status=400,
                               error="Passwords do not match.", **context)  # fmt: skip
        errors = sv.password_errors(auth.pool, password)
        if errors:
            return self.render(request, "confirm_forgot.html", status=400, policy_errors=errors,
                               error="Password did not conform with policy", **context)  # fmt: skip
        try:
            sv.confirm_forgot_password(auth.pool, username, request.form.get("code", ""), password)
        except JsonRESTError as exc:
            return self.render(request, "confirm_forgot.html", status=400, error=exc.message, **context)
        return redirect("/login?" + _with(auth, notice="password_reset"))

    # --- /logout ----------------------------------------------------------------------------------
    def logout(self, request: Request) -> Response:
        """Cognito's /logout: logout_uri form, or the redirect_uri form that shows sign-in."""
        if request.method != "GET":
            return self.error_page(request, "Method not allowed.", 405)
        args = request.args
        if any(len(args.getlist(k)) > 1 for k in ("client_id", "logout_uri", "redirect_uri")):
            return self.error_page(request, "Invalid request: repeated parameter.")
        try:
            pool, client = bk.pool_for_client(args.get("client_id", ""))
        except JsonRESTError:
            return self.error_page(request, "Invalid request: client_id is missing or unknown.")
        logout_uri = args.get("logout_uri")
        if logout_uri is not None:
            if logout_uri not in (client.extended_config.get("LogoutURLs") or []):
                return self.error_page(
                    request, "Invalid request: logout_uri is not registered for this client."
                )
            response = redirect(logout_uri)
        elif args.get("redirect_uri") and args.get("response_type"):
            try:
                auth = parse_authorize(args)
            except ErrorPage as exc:
                return self.error_page(request, exc.message, exc.status)
            except RedirectError as exc:
                return redirect(exc.url)
            response = redirect("/login?" + auth.query)
        else:
            return self.error_page(request, "Invalid request: logout_uri or redirect_uri is required.")
        sid = request.cookies.get(SESSION_COOKIE)
        if sid:
            self.sessions.pop(sid, None)
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
        return pool, client

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
        """The token endpoint: authorization_code and refresh_token grants."""
        problem = self.form_problem(
            request, ("grant_type", "code", "redirect_uri", "code_verifier", "refresh_token",
                      "client_id", "client_secret", "scope"),
        )  # fmt: skip
        if problem:
            return problem
        authed = self.client_auth(request)
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
        entry = self.codes.get(code)
        if entry is None or entry.client_id != client.id:
            return oauth_error("invalid_grant")
        if entry.used:
            # RFC 6749 §4.1.2: a replayed code revokes what it issued.
            if entry.origin_jti:
                pool.revoke_origin(entry.origin_jti)
            return oauth_error("invalid_grant")
        entry.used = True
        if entry.expires < time.time():
            return oauth_error("invalid_grant")
        if form.get("redirect_uri") != entry.redirect_uri:
            return oauth_error("invalid_grant")
        if entry.code_challenge:
            verifier = form.get("code_verifier") or ""
            digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
            if not verifier or not hmac.compare_digest(digest.decode(), entry.code_challenge):
                return oauth_error("invalid_grant")
        user = moto.get_user(pool, entry.username)
        if user is None or not user.enabled:
            return oauth_error("invalid_grant")
        tokens = sv.issue_tokens(
            pool, client, user, scopes=entry.scopes, nonce=entry.nonce, auth_time=entry.auth_time
        )
        issued = moto.refresh_entry(pool, tokens["RefreshToken"])
        entry.origin_jti = issued.origin_jti if issued else None
        body = {}
        if "IdToken" in tokens:
            body["id_token"] = tokens["IdToken"]
        body.update({"access_token": tokens["AccessToken"], "refresh_token": tokens["RefreshToken"],
                     "expires_in": tokens["ExpiresIn"], "token_type": "Bearer"})  # fmt: skip
        return Response(json.dumps(body), content_type="application/json;charset=UTF-8")

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
        """RFC 7009 revocation of refresh tokens (access tokens: unsupported_token_type)."""
        problem = self.form_problem(request, ("token", "client_id", "client_secret", "token_type_hint"))
        if problem:
            return problem
        authed = self.client_auth(request)
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

    # --- outbox -----------------------------------------------------------------------------------
    def outbox_page(self, request: Request) -> Response:
        """/_outbox: the messages as HTML."""
        return self.render(request, "outbox.html", messages=outbox.OUTBOX.newest_first())

    @staticmethod
    def outbox_json(request: Request) -> Response:
        """/_outbox.json: the messages, newest first."""
        return Response(json.dumps(outbox.OUTBOX.newest_first()), content_type="application/json")


NOTICES = {
    "confirmed": "Your account has been confirmed. Please sign in.",
    "resent": "A new code has been sent.",
    "password_reset": "Your password has been reset. Please sign in.",
}


def _notice(request: Request) -> str | None:
    """A fixed notice named by the query (never echoed text, so nothing can be injected)."""
    return NOTICES.get(request.args.get("notice", ""))


def _with(auth: AuthorizeRequest, **extra: str) -> str:
    """The flow's query string plus page-specific parameters."""
    return urlencode({**auth.params, **extra})


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
