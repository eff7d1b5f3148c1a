"""A person in Chromium: home → Sign in → hosted page → /me/ → Sign out of the app and the hosted UI."""

from __future__ import annotations

import pytest

from project.integrations import cognito

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_alice_signs_in_and_out_through_the_hosted_ui(live_server, page):
    cognito.user_pool().reset()

    page.goto(live_server.url)
    # One click from the app to the hosted page.
    page.get_by_role("link", name="Sign in").first.click()
    page.wait_for_url(
        lambda url: url.startswith(
            cognito.user_pool().endpoint("authorization_endpoint").rsplit("/oauth2", 1)[0]
        )
    )
    page.fill("input[name=username]", "alice@example.com")
    page.fill("input[name=password]", "Alice-pass-1")
    page.locator("form:has(input[name=password]) [type=submit]").first.click()

    page.wait_for_url(f"{live_server.url}/me/")
    assert page.get_by_test_id("email").inner_text() == "alice@example.com"
    assert "Alice Example" in page.get_by_test_id("header-user").inner_text()

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{live_server.url}/")
    assert "You are signed out." in page.get_by_role("list").first.inner_text()
    assert page.get_by_role("link", name="Sign in").count() >= 1

    # The hosted-UI session ended too: signing in again asks for the password.
    page.goto(f"{live_server.url}/oidc/authenticate/")
    page.wait_for_selector("input[name=password]")
    assert page.url.startswith(cognito.user_pool().endpoint("authorization_endpoint").rsplit("/oauth2", 1)[0])
