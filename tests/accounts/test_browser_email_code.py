"""'Email me a code' in Chromium: the app's sign-in → hosted page → e-mail → code from the outbox → /me/."""

from __future__ import annotations

import pytest

from project.integrations import cognito
from tests.support.spa import sign_in_codes

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_alice_signs_in_with_an_emailed_code(live_server, page):
    cognito.user_pool().reset()
    before = sign_in_codes("alice@example.com")

    page.goto(f"{live_server.url}/accounts/sign-in/")
    page.get_by_role("link", name="Sign in", exact=True).last.click()
    page.get_by_role("link", name="Email me a code").click()
    page.fill("input[name=username]", "alice@example.com")
    page.get_by_role("button", name="Email me a code").click()
    page.get_by_label("Code").wait_for()

    codes = sign_in_codes("alice@example.com")
    assert len(codes) == len(before) + 1
    page.fill("input[name=code]", "000000" if codes[0] != "000000" else "111111")
    page.get_by_role("button", name="Sign in").click()
    assert "That code is not right." in page.locator("#error").inner_text()

    page.fill("input[name=code]", codes[0])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/me/")
    assert page.get_by_test_id("email").inner_text() == "alice@example.com"
