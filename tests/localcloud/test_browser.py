"""The hosted pages in a real browser: sign up, confirm with the outbox code, and be signed in."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from tests.support.localcloud import CALLBACK_2, Stack, authorize_params, exchange, pkce_pair
from tests.support.waiting import wait_until

pytestmark = pytest.mark.browser

# Counts the changes of an element's text (a live region's announcements), as el.changes.
COUNT_TEXT_CHANGES = """el => {
  el.changes = 0;
  new MutationObserver(() => { el.changes += 1; })
    .observe(el, {childList: true, characterData: true, subtree: true});
}"""


def test_each_show_password_toggle_is_named_for_its_field_and_what_it_does(stack: Stack, page) -> None:
    """The reset page's two password fields: each toggle's name starts with its visible word (WCAG
    2.5.3, "Show" then "Hide") and names its own field, so the two are told apart."""
    query = urlencode({**authorize_params(stack), "username": "someone@example.com"})
    page.goto(f"{stack.base}/confirmforgotPassword?{query}")
    new, again = page.locator("#forgot-password"), page.locator("#forgot-password2")
    first = page.get_by_role("button", name="Show new password", exact=True)
    second = page.get_by_role("button", name="Show new password again", exact=True)
    assert (first.count(), second.count()) == (1, 1)
    assert (first.inner_text(), second.inner_text()) == ("Show", "Show")
    first.click()
    assert (new.get_attribute("type"), again.get_attribute("type")) == ("text", "password")
    hide = page.get_by_role("button", name="Hide new password", exact=True)
    assert hide.count() == 1 and hide.inner_text() == "Hide"
    assert page.get_by_role("button", name="Show new password", exact=True).count() == 0
    assert second.count() == 1 and second.inner_text() == "Show"  # the other field's toggle is untouched
    hide.click()
    assert new.get_attribute("type") == "password"
    assert page.get_by_role("button", name="Show new password", exact=True).inner_text() == "Show"


def test_sign_up_confirm_and_sign_in_on_hosted_pages(stack: Stack, page) -> None:
    email = f"browser-{secrets.token_hex(4)}@example.com"
    password = "Browser-pass-1"
    verifier, challenge = pkce_pair()
    params = authorize_params(
        stack, redirect_uri=CALLBACK_2, state="browser-state", code_challenge=challenge,
        code_challenge_method="S256",
    )  # fmt: skip
    query = "&".join(f"{k}={v}" for k, v in params.items()).replace(" ", "+")
    page.goto(f"{stack.base}/oauth2/authorize?{query}")
    assert "/login" in page.url

    page.click("text=Sign up")
    page.fill("input[name=email]", email)
    page.fill("input[name=name]", "Browser Person")
    page.fill("input[name='custom:college']", "Browser College")
    assert page.locator("input[name='custom:role']").count() == 0
    # The pool's rules show before any failure and are ticked off while typing.
    rules = page.locator("#signup-password-rules li[data-check]")
    assert rules.count() == 5 and page.locator("#signup-password-rules li.met").count() == 0
    # Screen readers hear one polite summary once typing pauses, not a word per keystroke: the
    # live region is empty until the user types, then changes once for the four keys below (each
    # of which meets one more rule: 1, 2, 3, then 4 of 5).
    status = page.locator("#signup-password-rules-status")
    assert (status.get_attribute("role"), status.get_attribute("aria-live")) == ("status", "polite")
    assert status.inner_text() == ""
    assert (
        page.locator("#signup-password-rules [aria-live], #signup-password-rules [role=status]").count() == 0
    )
    status.evaluate(COUNT_TEXT_CHANGES)
    # The page's timers run only as the test moves its clock (paused): no race with real time.
    page.clock.install()
    page.clock.pause_at(datetime.now(UTC) + timedelta(minutes=1))
    for key in "aB3!":  # keys 0.2 s apart: typing, not pausing
        page.locator("input[name=password]").press(key)
        page.clock.run_for(200)
    met = page.locator("#signup-password-rules li.met").all_text_contents()
    assert len(met) == 4 and "A lowercase letter (a–z) (done)" in met
    assert status.evaluate("el => el.changes") == 0
    page.clock.run_for(1000)  # a pause
    wait_until(lambda: status.inner_text() == "4 of 5 password rules met", what="the rules' summary")
    assert status.evaluate("el => el.changes") == 1
    page.clock.resume()
    page.get_by_role("button", name="Show password").click()
    assert page.locator("#signup-password").get_attribute("type") == "text"
    page.click("button[type=submit]")
    assert page.locator("#password-policy-errors").is_visible()
    assert "Password not long enough" in page.content()
    page.fill("input[name=password]", password)
    status = page.locator("#signup-password-rules-status")  # the page again, after the refusal
    wait_until(lambda: status.inner_text() == "All 5 password rules met", what="all rules met")
    page.click("button[type=submit]")

    page.wait_for_url("**/confirm?**")
    code = stack.latest_code(email)
    page.fill("input[name=code]", code)
    # The browser that signed up is signed in by its code, as on Cognito: straight to the callback.
    # Whatever listens there (the app's live server, or nothing), the browser's request to it
    # carries the code: read it there (routes do not intercept redirect targets).
    with page.expect_request(lambda request: request.url.startswith(CALLBACK_2)) as callback_request:
        page.click("button[name=confirm]")
    callback = {k: v[0] for k, v in parse_qs(urlsplit(callback_request.value.url).query).items()}
    assert callback["state"] == "browser-state"
    assert callback["code"]
    tokens = exchange(stack, callback["code"], redirect_uri=CALLBACK_2, code_verifier=verifier).json()
    claims = stack.verify(tokens["id_token"], "id")
    assert claims["email"] == email
    assert claims["email_verified"] is True
    assert claims["custom:college"] == "Browser College"
    assert "custom:role" not in claims
