"""Every page, the app's and the hosted ones, at 320/390/768/1280 px: no sideways scroll, 44 px
targets, and no serious or critical axe-core violation (at 390 and 1280). Each page is visited once
and laid out at every width (one sign-in, one browser context: fast). `make screenshots` runs this
with SCREENSHOTS_DIR set, which also saves each page at 390 and 1280 px."""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

import pytest
from django.conf import settings

from profiles.models import Profile
from tests.support.ui import WIDTHS, check_page

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


def hosted_pages(page, problems: list[str], base: str, invitee: str) -> None:
    """The hosted UI's pages, reached the way people reach them (query strings from the app)."""
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
    page.goto(login_url)


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
        hosted_pages(page, problems, base, invitee)

        page.fill("input[name=username]", "alice@example.com")
        page.fill("input[name=password]", "Alice-pass-1")
        page.locator("form:has(input[name=password]) [type=submit]").first.click()
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
    finally:
        context.close()
        idp.admin_delete_user(UserPoolId=settings.COGNITO_USER_POOL_ID, Username=invitee)
    assert not problems, "\n".join(problems)
