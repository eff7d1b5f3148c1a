"""Sign-up, confirmation, password reset and MFA set-up pages over plain HTTP."""

from __future__ import annotations

import re
import secrets
from http import HTTPStatus

import pyotp
import requests

from tests.support.localcloud import ALICE, CALLBACK, Stack, authorize_params, stack_sign_in, submit


def open_page(session: requests.Session, stack: Stack, path: str, **extra: str) -> requests.Response:
    response = session.get(f"{stack.base}{path}", params=authorize_params(stack, **extra), timeout=5)
    assert response.status_code == HTTPStatus.OK, response.text
    return response


def follow(session: requests.Session, stack: Stack, response: requests.Response) -> requests.Response:
    assert response.status_code == HTTPStatus.FOUND, response.text
    return session.get(stack.base + response.headers["Location"], timeout=5)


def test_sign_up_page_fields_and_errors(stack: Stack) -> None:
    session = requests.Session()
    page = open_page(session, stack, "/signup")
    for name in ("email", "name", "custom:college", "password"):
        assert f'name="{name}"' in page.text
    assert 'name="custom:role"' not in page.text
    weak = submit(session, stack, page, email="weak@example.com", password="abc")
    assert weak.status_code == HTTPStatus.BAD_REQUEST
    for message in (
        "Password not long enough",
        "Password must have uppercase characters",
        "Password must have numeric characters",
        "Password must have symbol characters",
    ):
        assert message in weak.text
    taken = submit(session, stack, page, email=ALICE[0], password="Good-pass-1")
    assert "An account with the given email already exists." in taken.text
    forged = session.post(
        f"{stack.base}/signup",
        params=authorize_params(stack),
        data={"_csrf": session.cookies["XSRF-TOKEN"], "email": "role@example.com", "password": "Good-pass-1",
              "custom:role": "admin"},
        allow_redirects=False,
        timeout=5,
    )  # fmt: skip
    # Unknown form fields are ignored: the page only reads the client's writable attributes.
    confirm = follow(session, stack, forged)
    code = stack.latest_code("role@example.com")
    done = submit(session, stack, confirm, code=code)
    assert done.status_code == HTTPStatus.FOUND
    claims = stack.verify(stack.api_login("role@example.com", "Good-pass-1")["IdToken"], "id")
    assert "custom:role" not in claims


def test_confirm_page_wrong_code_resend_and_unconfirmed_login(stack: Stack) -> None:
    session = requests.Session()
    email = f"pages-{secrets.token_hex(4)}@example.com"
    page = open_page(session, stack, "/signup")
    confirm = follow(
        session, stack, submit(session, stack, page, email=email, name="P", password="Pages-pass-1")
    )
    assert "Confirm your account" in confirm.text
    first = stack.latest_code(email)
    wrong = submit(session, stack, confirm, code="000000" if first != "000000" else "111111")
    assert wrong.status_code == HTTPStatus.BAD_REQUEST
    assert "Invalid verification code provided" in wrong.text
    # Signing in before confirming leads back to the confirm step with a new code.
    _, login, _ = stack_sign_in(stack, email, "Pages-pass-1", session=session)
    assert login.status_code == HTTPStatus.FOUND
    assert login.headers["Location"].startswith("/confirm?")
    second = stack.latest_code(email)
    assert [m["recipient"] for m in stack.outbox()[:1]] == [email]
    confirm = session.get(stack.base + login.headers["Location"], timeout=5)
    resend_form = re.findall(r'<form method="post" action="([^"]+)"', confirm.text)[1].replace("&amp;", "&")
    resent = session.post(
        stack.base + resend_form,
        data={"_csrf": session.cookies["XSRF-TOKEN"], "username": email},
        allow_redirects=False,
        timeout=5,
    )
    assert resent.status_code == HTTPStatus.FOUND
    third = stack.latest_code(email)
    assert stack.outbox()[0]["kind"] == "signup"
    if second != third:
        stale = session.get(stack.base + resent.headers["Location"], timeout=5)
        assert submit(session, stack, stale, code=second).status_code == HTTPStatus.BAD_REQUEST
    done = submit(session, stack, session.get(stack.base + resent.headers["Location"], timeout=5), code=third)
    # The browser that signed up is signed in, as Cognito's hosted UI does after the code.
    assert done.headers["Location"].startswith(CALLBACK), done.headers["Location"]
    _, ok, _ = stack_sign_in(stack, email, "Pages-pass-1")
    assert ok.headers["Location"].startswith(CALLBACK)


def test_forgot_password_pages(stack: Stack, new_stack_user) -> None:
    email, _ = new_stack_user()
    session = requests.Session()
    page = open_page(session, stack, "/forgotPassword")
    reset = follow(session, stack, submit(session, stack, page, username=email))
    assert "Reset your password" in reset.text
    code = stack.latest_code(email)
    mismatch = submit(session, stack, reset, code=code, password="Reset-pass-1", password2="Reset-pass-2")
    assert "Passwords do not match." in mismatch.text
    weak = submit(session, stack, reset, code=code, password="weakweak", password2="weakweak")
    assert "Password must have uppercase characters" in weak.text
    wrong = submit(
        session, stack, reset, code="000000" if code != "000000" else "111111",
        password="Reset-pass-1", password2="Reset-pass-1",
    )  # fmt: skip
    assert "Invalid verification code provided" in wrong.text
    done = submit(session, stack, reset, code=code, password="Reset-pass-1", password2="Reset-pass-1")
    assert done.headers["Location"].startswith("/login?")
    _, ok, _ = stack_sign_in(stack, email, "Reset-pass-1")
    assert ok.headers["Location"].startswith(CALLBACK)
    # Unknown users get the same next page (no account enumeration).
    unknown = submit(session, stack, page, username="ghost@example.com")
    assert unknown.headers["Location"].startswith("/confirmforgotPassword?")


def test_outbox_pages(stack: Stack, new_stack_user) -> None:
    email, _ = new_stack_user()
    stack.idp().forgot_password(ClientId=stack.client_id, Username=email, SecretHash=stack.secret_hash(email))
    messages = stack.outbox()
    assert messages[0]["recipient"] == email
    assert set(messages[0]) >= {"recipient", "subject", "body", "code"}
    assert messages[0]["code"] in messages[0]["body"]
    html = requests.get(f"{stack.base}/_outbox", timeout=5)
    assert html.status_code == HTTPStatus.OK
    assert email in html.text


def test_mfa_setup_when_pool_requires_it(private_stack) -> None:
    running = private_stack(user_pool={"MfaConfiguration": "ON"})
    session, setup, _ = stack_sign_in(running, *ALICE)
    assert setup.status_code == HTTPStatus.OK
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', setup.text).group(1)
    assert "<svg" in setup.text
    wrong = submit(
        session, running, setup, code="000000" if pyotp.TOTP(secret).now() != "000000" else "111111"
    )
    assert "That code is not right" in wrong.text
    done = submit(session, running, wrong, code=pyotp.TOTP(secret).now())
    assert done.status_code == HTTPStatus.FOUND
    assert done.headers["Location"].startswith(CALLBACK)
    # Next sign-in asks for the code.
    session, challenge, _ = stack_sign_in(running, *ALICE)
    assert 'name="code"' in challenge.text
    assert "Multi-factor authentication" in challenge.text
