"""A person in Chromium signs in with (localcloud's fake) Google through the Cognito hosted UI."""

from __future__ import annotations

import uuid

import pytest

from project.integrations import cognito

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_new_person_continues_with_google_sees_profile_and_signs_out(live_server, page):
    cognito.user_pool().reset()
    email = f"newbie-{uuid.uuid4().hex[:8]}@example.com"

    page.goto(f"{live_server.url}/accounts/sign-in/")
    page.get_by_role("link", name="Continue with Google").click()
    # Straight to the provider: no Cognito page in between.
    page.wait_for_selector("#idp-title")
    assert "/_idp/google/authorize" in page.url
    page.get_by_label("Someone else (below)").check()
    page.get_by_label("Name").fill("Nina Newcomer")
    page.get_by_label("E-mail", exact=True).fill(email)
    page.get_by_label("Google has verified this e-mail").check()
    page.get_by_role("button", name="Continue").click()

    page.wait_for_url(f"{live_server.url}/me/")
    assert page.get_by_test_id("email").inner_text() == email
    assert "Nina Newcomer" in page.get_by_test_id("header-user").inner_text()

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{live_server.url}/")
    assert page.get_by_role("link", name="Sign in").count() >= 1


def test_alice_links_google_and_still_sees_her_own_profile(live_server, page):
    cognito.user_pool().reset()

    page.goto(f"{live_server.url}/accounts/sign-in/")
    page.get_by_role("link", name="Continue with Google").click()
    page.wait_for_selector("#idp-title")
    # The fake Google lists Alice's Google account (same e-mail, verified by Google).
    page.get_by_label("Alice Example <alice@example.com>").check()
    page.get_by_role("button", name="Continue").click()

    page.wait_for_url(f"{live_server.url}/me/")
    assert page.get_by_test_id("email").inner_text() == "alice@example.com"
    assert "Alice Example" in page.get_by_test_id("header-user").inner_text()
    assert "Example College" in page.content()  # her profile, not a new one


def test_cancelled_google_sign_in_offers_another_way(live_server, page):
    cognito.user_pool().reset()

    page.goto(f"{live_server.url}/accounts/sign-in/")
    page.get_by_role("link", name="Continue with Google").click()
    page.wait_for_selector("#idp-title")
    page.get_by_role("button", name="Cancel").click()

    page.get_by_text("Sign-in was cancelled or refused.").wait_for()
    page.get_by_role("link", name="Try another way").click()
    page.wait_for_url(f"{live_server.url}/accounts/sign-in/")
