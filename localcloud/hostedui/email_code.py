"""The hosted "Email me a code" sign-in: e-mail → code (with resend) → signed in like a password.

The pages drive the same USER_AUTH / EMAIL_OTP logic as the API (userpool/passwordless.py), so the
lockout, single use, expiry, five tries per code and hidden user existence are the API's. Shown
when the pool allows EMAIL_OTP as a first factor and the client has ALLOW_USER_AUTH (Cognito offers
it in managed login only; the classic pages have no such link).
"""

from __future__ import annotations

from typing import Any

from moto.core.exceptions import JsonRESTError
from werkzeug.wrappers import Request, Response

from localcloud.hostedui.flow import AuthorizeRequest
from localcloud.hostedui.pages import SESSION_ENDED, Pages, start_again_message
from localcloud.hostedui.web import error_page, render
from localcloud.userpool import passwordless as pw
from localcloud.userpool import services as sv

EXPIRED = "Your code has expired or was used. Please request a new code."
# A wrong code, said for people as on the MFA page (the API keeps "Invalid code received for user").
WRONG_CODE = "That code is not right. Enter the 6-digit code from the e-mail we sent you."
MESSAGES = {"CodeMismatchException": WRONG_CODE}


class EmailCodePages:
    """/passwordless: ask for the e-mail, then the code; a completed sign-in finishes as /login does."""

    def __init__(self, pages: Pages) -> None:
        """Finish sign-ins (and any challenge after the code) through the login pages."""
        self.pages = pages

    def routes(self) -> dict[str, Any]:
        """Path → handler."""
        return {"/passwordless": self.email_code}

    def email_code(self, request: Request) -> Response:
        """The e-mail step (GET, POST step=email), the code step and resend."""
        return self.pages.page(request, self._email_code)

    def _email_code(self, request: Request, auth: AuthorizeRequest) -> Response:
        if not pw.offered(auth.pool, auth.client):
            return error_page(request, "Sign-in with an emailed code is not enabled for this app.", 404)
        if request.method == "GET":
            return self._ask(request, auth, auth.login_hint or "")
        step = request.form.get("step", "email")
        username = request.form.get("username", "").strip()
        if step in ("email", "resend"):
            notice = "A new code has been sent." if step == "resend" else None
            return self._send(request, auth, username, notice)
        if step == "code":
            return self._check(request, auth, username)
        return error_page(request, "Unexpected sign-in step.")

    def _ask(self, request: Request, auth: AuthorizeRequest, username: str, **context: Any) -> Response:
        return render(request, "email_code.html", query=auth.query, username=username, **context)

    def _send(self, request: Request, auth: AuthorizeRequest, username: str, notice: str | None) -> Response:
        if not username:
            return self._ask(request, auth, "", status=400, error="Enter your email address.")
        try:
            started = pw.send_code(auth.pool, auth.client, username)
        except JsonRESTError as exc:
            return self._ask(request, auth, username, status=400, error=exc.message)
        destination = started["ChallengeParameters"]["CODE_DELIVERY_DESTINATION"]
        return self._code_page(request, auth, username, started["Session"], destination, notice=notice)

    def _code_page(self, request: Request, auth: AuthorizeRequest, username: str, session: str,
                   destination: str, **context: Any) -> Response:  # fmt: skip
        return render(request, "email_code_verify.html", query=auth.query, username=username,
                      session=session, destination=destination, **context)  # fmt: skip

    def _check(self, request: Request, auth: AuthorizeRequest, username: str) -> Response:
        session = request.form.get("session", "")
        try:
            challenge = sv.get_challenge(session, auth.client.id)
        except JsonRESTError:
            took_too_long = start_again_message(request, auth)
            error = EXPIRED if took_too_long == SESSION_ENDED else took_too_long
            return self._ask(request, auth, username, status=400, error=error)
        if challenge.name != "EMAIL_OTP":
            return self._ask(request, auth, username, status=400, error=EXPIRED)
        try:
            user = pw.verify_code(auth.pool, session, challenge, request.form.get("code", ""))
        except JsonRESTError as exc:
            message = MESSAGES.get(exc.error_type, exc.message)
            if session not in sv.CHALLENGES:  # expired, used up (5 wrong codes) or locked out for good
                return self._ask(request, auth, username, status=400, error=f"{message} {EXPIRED}")
            destination = str(challenge.data.get("destination", ""))
            return self._code_page(request, auth, username, session, destination, status=400, error=message)
        return self.pages._after_password(request, auth, user)
