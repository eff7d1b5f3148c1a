"""The hosted "Email me a code" pages: e-mail → code (resend) → redirected with an authorization code."""

from __future__ import annotations

import time
from collections.abc import Callable
from http import HTTPStatus

import pytest
import requests

from tests.support.localcloud import (
    ALICE,
    Stack,
    authorize_params,
    callback_query,
    exchange,
    mfa_user,
    pkce_pair,
    submit,
)


def code_page(stack: Stack, email: str) -> tuple[requests.Session, requests.Response, dict[str, str]]:
    """authorize → /login → "Email me a code" → the e-mail form submitted: (browser, code page, params)."""
    browser = requests.Session()
    params = authorize_params(stack)
    response = browser.get(f"{stack.base}/oauth2/authorize", params=params, allow_redirects=False, timeout=5)
    login = browser.get(stack.base + response.headers["Location"], timeout=5)
    link = login.text.split('id="email-code"', 1)[0].rsplit('href="', 1)[1].split('"', 1)[0]
    ask = browser.get(stack.base + link.replace("&amp;", "&"), timeout=5)
    assert ask.status_code == HTTPStatus.OK
    assert 'name="username"' in ask.text
    return browser, submit(browser, stack, ask, username=email), params


def test_email_me_a_code_signs_in_and_redirects_with_a_code(stack: Stack, new_stack_user: Callable) -> None:
    email, _ = new_stack_user()
    browser, page, params = code_page(stack, email)
    assert page.status_code == HTTPStatus.OK
    assert f"{email[0]}***@e***" in page.text
    code = stack.sign_in_codes(email)[0]

    done = submit(browser, stack, page, code=code)
    assert done.status_code == HTTPStatus.FOUND
    query = callback_query(done)
    assert done.headers["Location"].startswith(params["redirect_uri"])
    assert query["state"] == params["state"]
    tokens = exchange(stack, query["code"]).json()
    assert stack.verify(tokens["id_token"], "id")["email"] == email
    # The hosted-UI session started, as after a password: authorize skips the form now.
    again = browser.get(
        f"{stack.base}/oauth2/authorize", params=authorize_params(stack), allow_redirects=False, timeout=5
    )
    assert "code=" in again.headers["Location"]


def test_a_wrong_code_shows_the_page_again_and_a_used_one_is_refused(
    stack: Stack, new_stack_user: Callable
) -> None:
    email, _ = new_stack_user()
    browser, page, _ = code_page(stack, email)
    code = stack.sign_in_codes(email)[0]
    retry = submit(browser, stack, page, code="000000" if code != "000000" else "111111")
    assert retry.status_code == HTTPStatus.BAD_REQUEST
    assert "That code is not right." in retry.text and "Invalid code received" not in retry.text
    assert submit(browser, stack, retry, code=code).status_code == HTTPStatus.FOUND
    replay = submit(browser, stack, page, code=code)
    assert replay.status_code == HTTPStatus.BAD_REQUEST
    assert "Please request a new code" in replay.text


def test_resend_replaces_the_code(stack: Stack, new_stack_user: Callable) -> None:
    email, _ = new_stack_user()
    browser, page, _ = code_page(stack, email)
    first = stack.sign_in_codes(email)[0]
    assert 'name="step" value="resend"' in page.text
    resent = browser.post(  # the page's second form, to the same URL
        page.url,
        data={"_csrf": browser.cookies["XSRF-TOKEN"], "step": "resend", "username": email},
        timeout=5,
    )
    assert resent.status_code == HTTPStatus.OK
    assert "A new code has been sent." in resent.text
    codes = stack.sign_in_codes(email)
    assert len(codes) == 2
    if codes[0] != first:  # the old code (its session) no longer works
        assert submit(browser, stack, page, code=first).status_code == HTTPStatus.BAD_REQUEST
    assert submit(browser, stack, resent, code=codes[0]).status_code == HTTPStatus.FOUND


def test_unknown_addresses_get_the_same_page_and_no_code(stack: Stack) -> None:
    email = "nobody-hosted@example.com"
    browser, page, _ = code_page(stack, email)
    assert page.status_code == HTTPStatus.OK
    assert "n***@e***" in page.text
    assert stack.sign_in_codes(email) == []
    wrong = submit(browser, stack, page, code="123456")
    assert wrong.status_code == HTTPStatus.BAD_REQUEST
    assert "That code is not right." in wrong.text and "Invalid code received" not in wrong.text


def test_a_totp_user_gets_the_authenticator_step_after_the_code(
    stack: Stack, new_stack_user: Callable
) -> None:
    email, _, totp = mfa_user(stack, new_stack_user)
    browser, page, _ = code_page(stack, email)
    mfa = submit(browser, stack, page, code=stack.sign_in_codes(email)[0])
    assert mfa.status_code == HTTPStatus.OK
    assert 'value="mfa"' in mfa.text
    assert submit(browser, stack, mfa, code=totp.now()).status_code == HTTPStatus.FOUND


def test_the_page_needs_csrf_and_an_email_code_session_is_no_login_step(stack: Stack) -> None:
    browser, page, _ = code_page(stack, ALICE[0])
    session = page.text.split('name="session" value="', 1)[1].split('"', 1)[0]
    forged = requests.post(
        page.url, data={"step": "code", "session": session, "code": "1", "username": ALICE[0]}, timeout=5
    )
    assert forged.status_code == HTTPStatus.FORBIDDEN
    # The e-mail code session cannot stand in for a /login challenge (TOTP, new password).
    login = browser.post(
        page.url.replace("/passwordless", "/login"),
        data={"_csrf": browser.cookies["XSRF-TOKEN"], "step": "mfa", "session": session, "code": "123456"},
        timeout=5,
    )
    assert "Your session has expired" in login.text


def test_no_link_and_no_page_where_the_pool_or_client_does_not_allow_it(
    private_stack: Callable[..., Stack],
) -> None:
    stack = private_stack(
        user_pool={
            "Policies": {"PasswordPolicy": {}, "SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD"]}}
        }
    )
    browser = requests.Session()
    response = browser.get(
        f"{stack.base}/oauth2/authorize", params=authorize_params(stack), allow_redirects=False, timeout=5
    )
    login = browser.get(stack.base + response.headers["Location"], timeout=5)
    assert 'id="email-code"' not in login.text
    page = browser.get(
        stack.base + response.headers["Location"].replace("/login", "/passwordless"), timeout=5
    )
    assert page.status_code == HTTPStatus.NOT_FOUND
    assert stack.sign_in_codes(ALICE[0]) == []


def test_the_public_client_signs_in_with_a_code_and_pkce(stack: Stack, new_stack_user: Callable) -> None:
    email, _ = new_stack_user()
    verifier, challenge = pkce_pair()
    params = {
        "response_type": "code", "client_id": stack.spa_client_id, "redirect_uri": "http://localhost:5173/",
        "state": "s1", "code_challenge": challenge, "code_challenge_method": "S256",
    }  # fmt: skip
    browser = requests.Session()
    ask = browser.get(f"{stack.base}/passwordless", params=params, timeout=5)
    page = submit(browser, stack, ask, username=email)
    done = submit(browser, stack, page, code=stack.sign_in_codes(email)[0])
    query = callback_query(done)
    tokens = requests.post(
        f"{stack.base}/oauth2/token",
        data={"grant_type": "authorization_code", "client_id": stack.spa_client_id, "code": query["code"],
              "redirect_uri": "http://localhost:5173/", "code_verifier": verifier},
        timeout=5,
    ).json()  # fmt: skip
    assert stack.verify(tokens["access_token"], "access", client_id=stack.spa_client_id)["username"]


def test_wrong_codes_on_the_page_lock_out_like_passwords(stack: Stack, new_stack_user: Callable) -> None:
    email, _ = new_stack_user()
    browser, page, _ = code_page(stack, email)
    code = stack.sign_in_codes(email)[0]
    bad = "000000" if code != "000000" else "111111"
    for _ in range(4):
        page = submit(browser, stack, page, code=bad)
    before_fifth = time.monotonic()
    submit(browser, stack, page, code=bad)
    _, again, _ = code_page(stack, email)
    if time.monotonic() - before_fifth >= 1.0:
        pytest.skip("the machine is too slow to observe a 1 s lockout")
    assert again.status_code == HTTPStatus.BAD_REQUEST
    assert "Password attempts exceeded" in again.text
    assert len(stack.sign_in_codes(email)) == 1


def test_bad_input_gets_a_page_never_an_error(stack: Stack) -> None:
    browser, page, _ = code_page(stack, ALICE[0])
    ask_url = page.url
    csrf = browser.cookies["XSRF-TOKEN"]
    for data in (
        {"step": "email", "username": "x" * 5000 + "@example.com"},
        {"step": "email", "username": ""},
        {"step": "code", "session": "forged", "code": "123456", "username": ALICE[0]},
        {"step": "code", "code": "1" * 10_000, "username": ALICE[0]},
        {"step": "elsewhere"},
    ):
        response = browser.post(ask_url, data={"_csrf": csrf, **data}, timeout=5)
        assert response.status_code == HTTPStatus.BAD_REQUEST, (data, response.text[:300])
        assert "Internal" not in response.text
