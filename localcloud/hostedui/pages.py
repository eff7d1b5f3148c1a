"""The hosted UI's pages: authorize, login with its challenge steps, sign-up, codes, outbox."""

from __future__ import annotations

import json
import secrets
import time
from typing import Any
from urllib.parse import urlencode

import segno
from moto.cognitoidp.models import CognitoIdpUser
from moto.core.exceptions import JsonRESTError
from werkzeug.wrappers import Request, Response

from localcloud import outbox
from localcloud.hostedui.federation import Federation, provider_buttons
from localcloud.hostedui.flow import AuthorizeRequest, ErrorPage, RedirectError, add_query, parse_authorize
from localcloud.hostedui.stores import CodeStore, SessionStore
from localcloud.hostedui.web import AUTH_ENVIRON_KEY, SESSION_COOKIE, csrf_ok, error_page, redirect, render
from localcloud.userpool import services as sv
from localcloud.userpool.passwordless import CHALLENGES as PASSWORDLESS_STEPS
from localcloud.userpool.passwordless import offered

FIELD_LABELS = {"name": "Name", "given_name": "Given name", "family_name": "Family name"}
# The browser that signed up holds this cookie until it confirms the code: Cognito's hosted UI then
# signs that browser in (the password was given moments ago); anyone else confirming gets /login.
SIGNUP_COOKIE = "cognito-signup"
SIGNUP_SECONDS = 3600
# Wrong codes at the MFA steps, said for people (the API's wording is "Invalid code received for
# user" / "Code mismatch").
WRONG_MFA_CODE = "That code is not right. Enter the 6-digit code your authenticator app shows now."
MFA_MESSAGES = {"CodeMismatchException": WRONG_MFA_CODE, "EnableSoftwareTokenMFAException": WRONG_MFA_CODE}


class Pages:
    """The hosted pages; a completed sign-in issues a code and starts a session."""

    def __init__(self, codes: CodeStore, sessions: SessionStore) -> None:
        """Share the stores with the OAuth endpoints."""
        self.codes = codes
        self.sessions = sessions
        self._signups: dict[str, tuple[str, str, float]] = {}  # token → (pool id, username, expiry)
        self.federation: Federation | None = None  # set by HostedUI

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
        }

    def page(self, request: Request, handler: Any) -> Response:
        """Run a hosted page with the shared error handling."""
        if request.method not in ("GET", "POST"):
            return error_page(request, "Method not allowed.", 405)
        try:
            auth = parse_authorize(request.args)
            request.environ[AUTH_ENVIRON_KEY] = auth
            if request.method == "POST" and not csrf_ok(request):
                return error_page(request, "Invalid or missing CSRF token; reload the page.", 403)
            return handler(request, auth)
        except ErrorPage as exc:
            return error_page(request, exc.message, exc.status)
        except RedirectError as exc:
            return redirect(exc.url)

    def finish(self, auth: AuthorizeRequest, user: CognitoIdpUser, auth_time: int | None = None,
               new_session: bool = True, federated: bool = False) -> Response:  # fmt: skip
        """Issue a code, redirect to the client, and (re)start the session cookie. `federated`: the
        sign-in went through an external provider (its tokens carry `identities`)."""
        auth_time = auth_time or int(time.time())
        params = {"code": self.codes.issue(auth, user.username, auth_time, federated)}
        if auth.state is not None:
            params["state"] = auth.state
        response = redirect(add_query(auth.redirect_uri, params))
        if new_session:
            sv.sign_in_completed(auth.pool, user)
            sid = self.sessions.start(auth.pool.id, user.username, auth_time, federated)
            response.set_cookie(
                SESSION_COOKIE, sid, max_age=self.sessions.lifetime,
                httponly=True, samesite="Lax", path="/",
            )  # fmt: skip
        return response

    # --- /oauth2/authorize ------------------------------------------------------------------------
    def authorize(self, request: Request) -> Response:
        """Validate, then either reuse the session (skip the form) or go to /login."""
        if request.method != "GET":
            return error_page(request, "Method not allowed.", 405)
        try:
            auth = parse_authorize(request.args)
        except ErrorPage as exc:
            return error_page(request, exc.message, exc.status)
        except RedirectError as exc:
            return redirect(exc.url)
        if auth.identity_provider and self.federation is not None:
            # identity_provider= / idp_identifier=: straight to the provider, no Cognito page.
            return self.federation.start(request, auth, auth.identity_provider)
        session = self.sessions.current(request.cookies.get(SESSION_COOKIE), auth.pool)
        if session is not None:
            user = auth.pool.user(session.username)
            return self.finish(auth, user, session.auth_time, new_session=False, federated=session.federated)
        return redirect("/login?" + auth.query)

    # --- /login (password, new password, TOTP, TOTP set-up) ---------------------------------------
    def login(self, request: Request) -> Response:
        """The sign-in page and its challenge steps."""
        return self.page(request, self._login)

    def _login(self, request: Request, auth: AuthorizeRequest) -> Response:
        if request.method == "GET":
            username = auth.login_hint or request.args.get("username", "")
            return render(request, "login.html", query=auth.query, username=username,
                          notice=_notice(request), email_code=offered(auth.pool, auth.client),
                          providers=provider_buttons(auth))  # fmt: skip
        step = request.form.get("step", "password")
        if step == "password":
            return self._password_step(request, auth)
        challenge = _login_challenge(request, auth)
        if challenge is None:  # refused like every other form post here (400), saying why
            return render(request, "login.html", status=400, query=auth.query,
                          username=kept_username(request), error=start_again_message(request, auth),
                          email_code=offered(auth.pool, auth.client),
                          providers=provider_buttons(auth))  # fmt: skip
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
                sv.check_challenge_code(session, challenge, user, sv.check_totp, request.form.get("code", ""))
            elif step == "mfa_setup" and challenge.name == "MFA_SETUP":
                sv.check_challenge_code(
                    session, challenge, user, sv.verify_new_totp, request.form.get("code", "")
                )
                sv.set_mfa_preference(user, {"Enabled": True, "PreferredMfa": True})
            else:
                raise sv.error("InvalidParameterException", "Unexpected sign-in step.")
        except JsonRESTError as exc:
            message = MFA_MESSAGES.get(exc.error_type, exc.message) if step != "new_password" else exc.message
            return self._challenge_page(request, auth, user, challenge.name, session, error=message)
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
            return render(request, "login.html", status=400, query=auth.query, username=username,
                          error=exc.message, email_code=offered(auth.pool, auth.client),
                          providers=provider_buttons(auth))  # fmt: skip
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
        # The e-mail rides along, so a step that took too long starts again with it filled in.
        context.update(query=auth.query, session=session, username=sv.user_email(user))
        # A refused answer (wrong code, weak password) is a 400, as on every hosted form.
        context["status"] = 400 if context.get("error") or context.get("policy_errors") else 200
        if name == "NEW_PASSWORD_REQUIRED":
            return render(request, "new_password.html", email=sv.user_email(user), **context)
        if name == "SOFTWARE_TOKEN_MFA":
            return render(request, "mfa.html", **context)
        secret = sv.user_state(user).totp_pending_secret or sv.new_totp_secret(user)
        uri = f"otpauth://totp/localcloud:{sv.user_email(user)}?secret={secret}&issuer=localcloud"
        qr_svg = segno.make(uri).svg_inline(scale=4)
        return render(request, "mfa_setup.html", secret=secret, qr_svg=qr_svg, **context)

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
            return render(request, "signup.html", query=auth.query, fields=fields, values={})
        form = request.form
        email = (form.get("email") or form.get("username") or "").strip()
        values = {f["name"]: form.get(f["name"], "").strip() for f in fields}
        attrs = {k: v for k, v in values.items() if v}
        context = {"query": auth.query, "fields": fields, "values": {"email": email, **values}}
        errors = sv.password_errors(auth.pool, form.get("password", ""))
        if errors:
            return render(request, "signup.html", status=400, policy_errors=errors,
                               error="Password did not conform with policy", **context)  # fmt: skip
        try:
            user, _ = sv.sign_up(auth.pool, auth.client, email, form.get("password", ""), attrs)
        except JsonRESTError as exc:
            return render(request, "signup.html", status=400, error=exc.message, **context)
        response = redirect("/confirm?" + _with(auth, username=email))
        token = secrets.token_urlsafe(32)
        now = time.time()
        for key in [k for k, (_, _, expires) in self._signups.items() if expires < now]:
            del self._signups[key]
        self._signups[token] = (auth.pool.id, user.username, now + SIGNUP_SECONDS)
        response.set_cookie(
            SIGNUP_COOKIE, token, max_age=SIGNUP_SECONDS, httponly=True, samesite="Lax", path="/"
        )
        return response

    def confirm(self, request: Request) -> Response:
        """Confirmation-code page."""
        return self.page(request, self._confirm)

    def _confirm(self, request: Request, auth: AuthorizeRequest) -> Response:
        username = (request.form.get("username") if request.method == "POST" else None) or request.args.get(
            "username", ""
        )
        context = {"query": _with(auth), "username": username, "destination": sv.mask(username)}
        if request.method == "GET":
            return render(request, "confirm.html", notice=_notice(request), **context)
        try:
            user = sv.confirm_sign_up(auth.pool, username, request.form.get("code", ""),
                                      hide_existence=sv.hides_existence(auth.client))  # fmt: skip
        except JsonRESTError as exc:
            return render(request, "confirm.html", status=400, error=exc.message, **context)
        signed_up_here = self._signed_up_here(request, auth, user)
        if signed_up_here and not user.enabled:
            # Disabled after sign-up: as a password sign-in of a disabled user, no session.
            response = render(request, "login.html", status=400, query=auth.query, username=username,
                              error="User is disabled.", email_code=offered(auth.pool, auth.client),
                              providers=provider_buttons(auth))  # fmt: skip
        elif signed_up_here:
            response = self._after_password(request, auth, user)
        else:
            response = redirect("/login?" + _with(auth, notice="confirmed", username=username))
        response.delete_cookie(SIGNUP_COOKIE, path="/")
        return response

    def _signed_up_here(self, request: Request, auth: AuthorizeRequest, user: CognitoIdpUser) -> bool:
        """Whether this browser signed this user up (its cookie names them), consuming the proof."""
        pending = self._signups.pop(request.cookies.get(SIGNUP_COOKIE, ""), None)
        if pending is None:
            return False
        pool_id, username, expires = pending
        return pool_id == auth.pool.id and username == user.username and expires >= time.time()

    def resend_code(self, request: Request) -> Response:
        """Send a new sign-up code (POST from the confirm page)."""
        return self.page(request, self._resend)

    def _resend(self, request: Request, auth: AuthorizeRequest) -> Response:
        username = request.form.get("username") or request.args.get("username", "")
        notice = "resent"
        if request.method == "POST":
            try:
                sv.resend_code(auth.pool, username, hide_existence=sv.hides_existence(auth.client))
            except JsonRESTError as exc:
                # never reveal whether the account exists; the send limit counts unknown names alike
                notice = "limit" if exc.error_type == "LimitExceededException" else notice
        return redirect("/confirm?" + _with(auth, username=username, notice=notice))

    # --- /forgotPassword, /confirmforgotPassword --------------------------------------------------
    def forgot_password(self, request: Request) -> Response:
        """Ask for a reset code."""
        return self.page(request, self._forgot)

    def _forgot(self, request: Request, auth: AuthorizeRequest) -> Response:
        if request.method == "GET":
            return render(request, "forgot.html", query=auth.query, username=auth.login_hint or "")
        username = request.form.get("username", "").strip()
        try:
            sv.forgot_password(auth.pool, username, hide_existence=sv.hides_existence(auth.client))
        except JsonRESTError as exc:
            return render(request, "forgot.html", status=400, query=auth.query,
                               username=username, error=exc.message)  # fmt: skip
        notice = {"notice": "resent"} if request.form.get("resend") else {}
        return redirect("/confirmforgotPassword?" + _with(auth, username=username, **notice))

    def confirm_forgot_password(self, request: Request) -> Response:
        """Reset with the code and the new password twice."""
        return self.page(request, self._confirm_forgot)

    def _confirm_forgot(self, request: Request, auth: AuthorizeRequest) -> Response:
        username = (request.form.get("username") if request.method == "POST" else None) or request.args.get(
            "username", ""
        )
        context = {"query": _with(auth), "username": username, "destination": sv.mask(username)}
        if request.method == "GET":
            return render(request, "confirm_forgot.html", notice=_notice(request), **context)
        # A mismatch or a weak password keeps the code the user typed.
        context["code"] = request.form.get("code", "")[:64]
        password = request.form.get("password", "")
        if password != request.form.get("password2", ""):
            return render(request, "confirm_forgot.html", status=400,
                               error="Passwords do not match.", **context)  # fmt: skip
        errors = sv.password_errors(auth.pool, password)
        if errors:
            return render(request, "confirm_forgot.html", status=400, policy_errors=errors,
                               error="Password did not conform with policy", **context)  # fmt: skip
        try:
            sv.confirm_forgot_password(auth.pool, username, request.form.get("code", ""), password)
        except JsonRESTError as exc:
            return render(request, "confirm_forgot.html", status=400, error=exc.message, **context)
        return redirect("/login?" + _with(auth, notice="password_reset", username=username))

    # --- outbox -----------------------------------------------------------------------------------
    def outbox_page(self, request: Request) -> Response:
        """/_outbox: the messages as HTML."""
        return render(request, "outbox.html", messages=outbox.OUTBOX.newest_first())

    @staticmethod
    def outbox_json(request: Request) -> Response:
        """/_outbox.json: the messages, newest first."""
        return Response(json.dumps(outbox.OUTBOX.newest_first()), content_type="application/json")


def _login_challenge(request: Request, auth: AuthorizeRequest) -> sv.Challenge | None:
    """The live challenge a /login step answers (None: expired, another client's, or not /login's)."""
    try:
        challenge = sv.get_challenge(request.form.get("session"), auth.client.id)
    except JsonRESTError:
        return None
    # An e-mail code session is not a /login step (and may stand for nobody).
    return None if challenge.name in PASSWORDLESS_STEPS else challenge


SESSION_ENDED = "Your session has expired. Please sign in again."


def start_again_message(request: Request, auth: AuthorizeRequest) -> str:
    """Why a sign-in step's session is no longer valid, said for people.

    A step answered after the client's AuthSessionValidity (the API's "Invalid session for the
    user, session is expired.") says so; a session used up (five wrong codes), unknown or another
    app's gets the plain "expired" line.
    """
    expired = sv.expired_challenge(request.form.get("session"))
    if expired is None or expired.client_id != auth.client.id:
        return SESSION_ENDED
    minutes = sv.session_seconds(auth.client) // 60
    return (
        f"Your sign-in took too long: each step must be finished within {minutes} minutes, so we "
        "stopped it to keep your account safe. Please start again."
    )


def kept_username(request: Request) -> str:
    """The e-mail a sign-in step carried (the pages put it there), to fill in when starting again."""
    return request.form.get("username", "").strip()[: sv.MAX_USERNAME]


NOTICES = {
    "confirmed": "Your account has been confirmed. Please sign in.",
    "resent": "A new code has been sent.",
    "limit": "Too many codes were asked for: please wait a while, then ask again.",
    "password_reset": "Your password has been reset. Please sign in.",
}


def _notice(request: Request) -> str | None:
    """A fixed notice named by the query (never echoed text, so nothing can be injected)."""
    return NOTICES.get(request.args.get("notice", ""))


def _with(auth: AuthorizeRequest, **extra: str) -> str:
    """The flow's query string plus page-specific parameters."""
    return urlencode({**auth.params, **extra})
