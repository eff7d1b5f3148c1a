"""In Chromium: an admin disables alice while she has the app open; then enables her again."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from project.integrations import cognito

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def sign_in(page, base_url: str, email: str, password: str, next_path: str) -> None:
    """Through the app's sign-in, the hosted UI's form (unless its session skips it), back to next."""
    page.goto(f"{base_url}/oidc/authenticate/?next={next_path}")
    page.wait_for_url(lambda url: url.startswith(f"{base_url}{next_path}") or "/login" in url)
    if "/login" in page.url:
        page.fill("input[name=username]", email)
        page.fill("input[name=password]", password)
        page.locator("form:has(input[name=password]) [type=submit]").first.click()
    page.wait_for_url(f"{base_url}{next_path}**")


def test_an_admin_disables_alice_while_she_uses_the_app_then_enables_her(
    live_server, browser, page, new_user
):
    cognito.user_pool().reset()
    base = live_server.url
    alice = new_user(name="Alice Example")
    admin = new_user(groups=("admin",), name="Site Operator", role="admin")

    sign_in(page, base, alice.email, alice.password, "/me/")
    assert "Alice Example" in page.get_by_test_id("header-user").inner_text()
    alice_pk = get_user_model().objects.get(cognito_sub=alice.sub).pk

    operator = browser.new_context()
    operator.set_default_timeout(15_000)
    console = operator.new_page()
    try:
        sign_in(console, base, admin.email, admin.password, f"/admin/accounts/user/{alice_pk}/cognito/")
        assert "CONFIRMED" in console.locator("#pool-state").inner_text()
        console.get_by_role("button", name="Disable and sign out").click()
        console.wait_for_selector("text=Disabled; signed out everywhere.")
        assert "no — disabled" in console.locator("#pool-state").inner_text()

        # Alice's next request: signed out, and told her account is disabled (no sign-in loop).
        page.reload()
        page.wait_for_url(f"{base}/accounts/disabled/")
        assert page.get_by_role("heading", name="Your account is disabled").is_visible()
        page.goto(f"{base}/me/")
        page.wait_for_url(f"{base}/accounts/sign-in/**")

        console.get_by_role("button", name="Enable").click()
        console.wait_for_selector("text=Enabled; they can sign in again.")
    finally:
        operator.close()

    sign_in(page, base, alice.email, alice.password, "/me/")
    assert "Alice Example" in page.get_by_test_id("header-user").inner_text()
