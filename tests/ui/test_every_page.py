"""Every page, the app's and the hosted ones, at 320/390/768/1280 px: no sideways scroll, 44 px
targets, and no serious or critical axe-core violation (at 390 and 1280). Each page is visited once
and laid out at every width (one sign-in, one browser context: fast); the hosted MFA steps need a
pool of their own (a private stack). `make screenshots` runs this with SCREENSHOTS_DIR set, which
also saves each page at 390 and 1280 px."""

from __future__ import annotations

import secrets
import time
from urllib.parse import urlencode, urlsplit

import pytest
from django.conf import settings

from profiles.models import Profile
from tests.support.localcloud import authorize_params, mfa_user, start_stack, write_config
from tests.support.servers import make_stack_user
from tests.support.ui import WIDTHS, check_page, latest_code

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def at_every_width(page, name: str, problems: list[str]) -> None:
    """The page as it stands, laid out again at each width (one visit, four layouts)."""
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 844 if width < 768 else 800})
        problems += check_page(page, name, width)


def visit(page, url: str, name: str, problems: list[str]) -> None:
    page.goto(url)
    at_every_width(page, name, problems)


def invited(idp) -> str:
    """A user an administrator created: the first sign-in asks for a new password."""
    email = f"invited-{secrets.token_hex(4)}@example.com"
    idp.admin_create_user(
        UserPoolId=settings.COGNITO_USER_POOL_ID, Username=email, TemporaryPassword="Temp-pass-1",
        UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
        MessageAction="SUPPRESS",
    )  # fmt: skip
    return email


def hosted_pages(page, problems: list[str], base: str, invitee: str) -> str:
    """The hosted UI's pages, reached the way people reach them (query strings from the app); returns
    the sign-in page's address."""
    page.goto(f"{base}/")
    page.get_by_role("link", name="Sign in", exact=True).first.click()
    page.wait_for_selector("input[name=password]")
    login_url = page.url
    at_every_width(page, "hosted sign-in", problems)
    query = urlsplit(login_url).query
    hosted = settings.COGNITO_DOMAIN
    visit(page, f"{hosted}/signup?{query}", "hosted sign-up", problems)
    page.fill("input[name=email]", "ui-layout@example.com")
    page.fill("input[name=password]", "weak")
    page.get_by_role("button", name="Create account").click()
    at_every_width(page, "hosted sign-up with errors", problems)
    visit(page, f"{hosted}/forgotPassword?{query}", "hosted forgot password", problems)
    visit(page, f"{hosted}/confirm?{query}&username=someone@example.com", "hosted confirm", problems)
    visit(
        page,
        f"{hosted}/confirmforgotPassword?{query}&username=someone@example.com",
        "hosted reset",
        problems,
    )
    visit(page, f"{hosted}/login?client_id=nobody", "hosted error", problems)
    page.goto(login_url)
    page.fill("input[name=username]", invitee)
    page.fill("input[name=password]", "Temp-pass-1")
    page.locator("form:has(input[name=password]) [type=submit]").first.click()
    page.wait_for_selector("input[name=password2]")
    at_every_width(page, "hosted new password", problems)
    return login_url


def provider_pages(page, problems: list[str], login_url: str) -> None:
    """A fake provider's consent page, from the hosted page's "Continue with Google" button; then
    its error (someone else, no e-mail typed). Every provider renders the same page."""
    page.goto(login_url)
    page.locator("#idp-Google").click()
    page.wait_for_selector("#idp-title")
    at_every_width(page, "fake provider", problems)
    page.check("input[name=identity][value=custom]")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_selector("#error")
    at_every_width(page, "fake provider with error", problems)


def email_code_sign_in(page, problems: list[str], login_url: str, email: str) -> None:
    """The hosted page's "Email me a code" (USER_AUTH / EMAIL_OTP), for real: the e-mailed code signs in."""
    page.goto(login_url)
    page.locator("#email-code").click()
    page.wait_for_selector("input[name=username]")
    at_every_width(page, "hosted e-mail code", problems)
    page.fill("input[name=username]", email)
    page.get_by_role("button", name="Email me a code").click()
    page.wait_for_selector("input[name=code]")
    at_every_width(page, "hosted e-mail code sent", problems)
    page.fill("input[name=code]", latest_code(email))
    page.get_by_role("button", name="Sign in").click()


def test_every_page_fits_the_screen_and_passes_axe(live_server, browser, idp):
    base = live_server.url
    invitee = invited(idp)
    context = browser.new_context()
    context.set_default_timeout(15_000)
    page = context.new_page()
    problems: list[str] = []
    try:
        visit(page, f"{base}/", "home", problems)
        visit(page, f"{base}/accounts/sign-in/?next=/me/", "sign in to continue", problems)
        visit(page, f"{base}/no/such/page/", "404", problems)
        visit(page, f"{base}/accounts/sign-in/failed/", "sign-in failed", problems)
        login_url = hosted_pages(page, problems, base, invitee)
        provider_pages(page, problems, login_url)
        email_code_sign_in(page, problems, login_url, "alice@example.com")  # alice's sign-in for the rest
        page.wait_for_url(f"{base}/me/")
        at_every_width(page, "me (first sign-in)", problems)
        alice = Profile.objects.get(user__email="alice@example.com")
        visit(page, f"{base}/me/edit/", "edit", problems)
        page.fill("input[name=handle]", "No Good!")
        page.get_by_role("button", name="Save").click()
        at_every_width(page, "edit with errors", problems)
        visit(page, f"{base}/me/avatar/", "avatar", problems)
        visit(page, f"{base}/people/", "people", problems)
        visit(page, f"{base}/people/?q=zzqx", "people, nobody found", problems)
        visit(page, f"{base}/u/{alice.handle}/", "public page", problems)
        visit(page, f"{base}/u/nobody-at-all/", "404 signed in", problems)
        visit(page, f"{base}/account/", "account", problems)
        visit(page, f"{base}/accounts/disabled/", "account disabled", problems)
    finally:
        context.close()
        idp.admin_delete_user(UserPoolId=settings.COGNITO_USER_POOL_ID, Username=invitee)
    assert not problems, "\n".join(problems)


def test_the_server_error_pages_fit_the_screen_and_pass_axe(live_server, browser, settings):
    """handler500's pages, a crash (500) and a database outage (503), as the live server answers
    them: views of tests/support/raising_urls raise (nothing in the project crashes on demand)."""
    settings.ROOT_URLCONF = "tests.support.raising_urls"
    context = browser.new_context()
    page = context.new_page()
    problems: list[str] = []
    try:
        for kind, status in (("runtime-error", 500), ("database-outage", 503)):
            response = page.goto(f"{live_server.url}/test-raises/{kind}/")
            assert response.status == status and page.locator("[data-testid=error-page]").count() == 1
            at_every_width(page, f"{status} page", problems)
    finally:
        context.close()
    assert not problems, "\n".join(problems)


def stack_sign_in_page(page, stack, email: str, password: str) -> None:
    """A Playwright page: stack's hosted sign-in (as the app's client), email and password submitted."""
    page.goto(f"{stack.base}/oauth2/authorize?{urlencode(authorize_params(stack))}")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", password)
    page.locator("form:has(input[name=password]) [type=submit]").first.click()


def not_a_code_of(totp) -> str:
    """Six digits the authenticator would not show now (nor one step before or after)."""
    accepted = {totp.at(time.time() + step * totp.interval) for step in (-1, 0, 1)}
    return next(code for code in ("000000", "111111", "222222", "333333") if code not in accepted)


def test_the_hosted_mfa_pages_fit_the_screen_and_pass_axe(browser, tmp_path):
    """The TOTP challenge (and its wrong-code error) of a user with an authenticator app, then the
    set-up step of a pool that requires MFA. On a private stack: the shared pool's MFA is optional
    and stays so for every other test."""
    stack = start_stack(tmp_path / "data", write_config(tmp_path / "config.json"))
    context = browser.new_context()
    context.set_default_timeout(15_000)
    page = context.new_page()
    problems: list[str] = []
    try:
        email, password, totp = mfa_user(stack, lambda: make_stack_user(stack))
        stack_sign_in_page(page, stack, email, password)
        page.wait_for_selector("#totpCode")
        at_every_width(page, "hosted MFA code", problems)
        page.fill("#totpCode", not_a_code_of(totp))
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_selector("#error")
        at_every_width(page, "hosted MFA code, wrong", problems)

        stack.idp().set_user_pool_mfa_config(
            UserPoolId=stack.pool_id, MfaConfiguration="ON", SoftwareTokenMfaConfiguration={"Enabled": True}
        )
        stack_sign_in_page(page, stack, *make_stack_user(stack, "No Authenticator Yet"))
        page.wait_for_selector("#setupCode")
        at_every_width(page, "hosted MFA set-up", problems)
    finally:
        context.close()
        stack.stop()
    assert not problems, "\n".join(problems)
