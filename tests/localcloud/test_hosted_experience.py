"""The hosted pages as people meet them: branding, rules up front, codes kept, signed in after sign-up."""

from __future__ import annotations

import re
import secrets
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from localcloud.config import DEFAULT_CONFIG, Config
from tests.support.localcloud import (
    CALLBACK,
    CALLBACK_2,
    Stack,
    authorize_params,
    callback_query,
    exchange,
    pkce_pair,
    submit,
)

PAGES = ("/login", "/signup", "/forgotPassword")


def open_page(session: requests.Session, stack: Stack, path: str, **extra: str) -> requests.Response:
    response = session.get(f"{stack.base}{path}", params=authorize_params(stack, **extra), timeout=5)
    assert response.status_code == HTTPStatus.OK, response.text
    return response


def follow(session: requests.Session, stack: Stack, response: requests.Response) -> requests.Response:
    assert response.status_code == HTTPStatus.FOUND, response.text
    return session.get(stack.base + response.headers["Location"], timeout=5)


def sign_up(session: requests.Session, stack: Stack, **extra: str) -> tuple[str, requests.Response]:
    email = f"hosted-{secrets.token_hex(4)}@example.com"
    page = open_page(session, stack, "/signup", **extra)
    confirm = follow(
        session, stack, submit(session, stack, page, email=email, name="H", password="Hosted-pass-1")
    )
    assert "Confirm your account" in confirm.text
    return email, confirm


@pytest.mark.parametrize("path", PAGES)
def test_every_hosted_page_carries_the_branding_and_a_way_back(stack: Stack, path: str) -> None:
    page = open_page(requests.Session(), stack, path, redirect_uri=CALLBACK_2)
    assert "<title>" in page.text and "· Profiles</title>" in page.text
    assert re.search(r'<img src="data:image/svg\+xml;base64,[A-Za-z0-9+/=]+"', page.text)
    # Back to the app the client's own registered callback belongs to (never a URL from elsewhere).
    assert (
        '<a class="back" href="http://localhost:8001/" id="back-to-app">← Back to Profiles</a>' in page.text
    )
    assert "--accent: #0b5fff" in page.text
    assert '--font: system-ui, -apple-system, "Segoe UI"' in page.text  # not &#34;-escaped: a real font


def test_an_unknown_client_gets_no_back_link(stack: Stack) -> None:
    params = authorize_params(stack, redirect_uri="https://evil.example/cb")
    page = requests.get(f"{stack.base}/login", params=params, timeout=5)
    assert page.status_code == HTTPStatus.BAD_REQUEST
    assert "evil.example" not in page.text and 'id="back-to-app"' not in page.text


def test_branding_colours_and_logo_are_checked_before_they_reach_a_page() -> None:
    from localcloud.hostedui.web import install_branding

    branding = Config.load(DEFAULT_CONFIG).branding
    for colors in ({"accent": "red;}</style><script>"}, {"accent": "#12"}):
        with pytest.raises(ValueError, match="colour"):
            install_branding({**branding, "colors": colors}, DEFAULT_CONFIG.parent)
    with pytest.raises(ValueError, match="font"):
        install_branding({**branding, "font": "x</style>"}, DEFAULT_CONFIG.parent)
    with pytest.raises(ValueError, match="logo"):
        install_branding({**branding, "logo": "config.json"}, DEFAULT_CONFIG.parent)


def test_password_rules_come_from_the_pool_policy_and_show_before_any_failure(private_stack) -> None:
    running = private_stack(
        user_pool={"Policies": {"PasswordPolicy": {"MinimumLength": 12, "RequireSymbols": False}}}
    )
    page = open_page(requests.Session(), running, "/signup")
    rules = re.search(r'<ul class="rules" id="signup-password-rules".*?</ul>', page.text, re.S).group(0)
    assert "At least 12 characters" in rules and "uppercase letter" in rules and "symbol" not in rules
    assert 'aria-describedby="signup-password-rules"' in page.text
    assert "password-policy-errors" not in page.text  # nothing has failed yet


def test_a_browser_that_signed_up_is_signed_in_by_its_code(stack: Stack) -> None:
    session = requests.Session()
    verifier, challenge = pkce_pair()
    email, confirm = sign_up(session, stack, code_challenge=challenge, code_challenge_method="S256")
    done = submit(session, stack, confirm, code=stack.latest_code(email))
    assert done.status_code == HTTPStatus.FOUND and done.headers["Location"].startswith(CALLBACK)
    tokens = exchange(stack, callback_query(done)["code"], code_verifier=verifier).json()
    assert stack.verify(tokens["id_token"], "id")["email"] == email
    # The hosted-UI session started too, as after a password sign-in.
    again = session.get(
        f"{stack.base}/oauth2/authorize", params=authorize_params(stack), allow_redirects=False
    )
    assert again.headers["Location"].startswith(CALLBACK)


def test_confirming_in_another_browser_or_with_another_sign_ups_cookie_does_not_sign_in(stack: Stack) -> None:
    first = requests.Session()
    email, confirm = sign_up(first, stack)
    # Someone else holding the code (another browser, no cookie) confirms the account only.
    stranger = requests.Session()
    page = open_page(stranger, stack, "/confirm", username=email)
    done = submit(stranger, stack, page, code=stack.latest_code(email))
    assert done.headers["Location"].startswith("/login?"), done.headers["Location"]
    assert parse_qs(urlsplit(done.headers["Location"]).query)["username"] == [email]
    # A browser that signed up *someone else* gets no sign-in for this account either.
    other = requests.Session()
    _, _ = sign_up(other, stack)
    victim_email, victim_confirm = sign_up(requests.Session(), stack)
    page = open_page(other, stack, "/confirm", username=victim_email)
    done = submit(other, stack, page, code=stack.latest_code(victim_email))
    assert done.headers["Location"].startswith("/login?"), done.headers["Location"]
    # The proof is used up: the first browser confirming now (already confirmed) is not signed in.
    late = submit(first, stack, confirm, code=stack.latest_code(email))
    assert late.status_code == HTTPStatus.BAD_REQUEST


def test_reset_keeps_the_code_offers_a_new_one_and_prefills_the_sign_in(stack: Stack, new_stack_user) -> None:
    email, _ = new_stack_user()
    session = requests.Session()
    page = open_page(session, stack, "/forgotPassword")
    reset = follow(session, stack, submit(session, stack, page, username=email))
    assert 'id="forgot-password-rules"' in reset.text
    code = stack.latest_code(email)
    mismatch = submit(session, stack, reset, code=code, password="Reset-pass-1", password2="Reset-pass-2")
    assert f'name="code" value="{code}"' in mismatch.text
    weak = submit(session, stack, reset, code=code, password="weakweak", password2="weakweak")
    assert f'name="code" value="{code}"' in weak.text and 'aria-invalid="true"' in weak.text
    # "Send a new code" on the reset page: a new message in the outbox, and a notice.
    before = len([m for m in stack.outbox() if m["recipient"] == email])
    action = re.findall(r'<form method="post" action="([^"]+)" class="resend">', reset.text)[0].replace(
        "&amp;", "&"
    )
    resent = session.post(
        stack.base + action,
        data={"_csrf": session.cookies["XSRF-TOKEN"], "username": email, "resend": "1"},
        allow_redirects=False,
        timeout=5,
    )
    again = follow(session, stack, resent)
    assert "A new code has been sent." in again.text
    assert len([m for m in stack.outbox() if m["recipient"] == email]) == before + 1
    new_code = stack.latest_code(email)
    done = submit(session, stack, again, code=new_code, password="Reset-pass-1", password2="Reset-pass-1")
    login = follow(session, stack, done)
    assert f'value="{email}"' in login.text and "Your password has been reset" in login.text


def test_a_user_disabled_after_sign_up_is_not_signed_in_by_the_confirmation(stack: Stack) -> None:
    session = requests.Session()
    email, confirm = sign_up(session, stack)
    stack.idp().admin_disable_user(UserPoolId=stack.pool_id, Username=email)
    done = submit(session, stack, confirm, code=stack.latest_code(email))
    assert done.status_code == HTTPStatus.BAD_REQUEST, done.headers.get("Location")
    assert "User is disabled." in done.text
    # No hosted session either: /oauth2/authorize asks for the sign-in again.
    again = session.get(
        f"{stack.base}/oauth2/authorize", params=authorize_params(stack), allow_redirects=False
    )
    assert not again.headers["Location"].startswith(CALLBACK), again.headers["Location"]


def test_reset_codes_are_limited_per_user_like_cognito(stack: Stack, new_stack_user) -> None:
    email, _ = new_stack_user()
    session = requests.Session()
    page = open_page(session, stack, "/forgotPassword")
    for _ in range(5):  # the first request and four "send a new code": each sends a code
        assert submit(session, stack, page, username=email).status_code == HTTPStatus.FOUND
    sent = len([m for m in stack.outbox() if m["recipient"] == email])
    refused = submit(session, stack, page, username=email)
    assert refused.status_code == HTTPStatus.BAD_REQUEST
    assert "Attempt limit exceeded, please try after some time." in refused.text
    assert "LimitExceededException" not in refused.text  # a sentence, not an error type
    assert len([m for m in stack.outbox() if m["recipient"] == email]) == sent  # no sixth mail
