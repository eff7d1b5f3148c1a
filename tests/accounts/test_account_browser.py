"""The account page in Chromium: a person's whole MFA / sessions / password story, and deleting an
account then signing up again with the same address."""

from __future__ import annotations

import io
import time
import uuid

import pyotp
import pytest
from PIL import Image

from accounts.models import UserSession
from profiles.models import Profile
from project.integrations import cognito
from tests.support.outbox import latest_code
from tests.support.sessions import make_stale_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def hosted_sign_in(page, base: str, email: str, password: str, code: str | None = None) -> None:
    """From anywhere: the app's sign-in, the hosted page's password (and code), back on /me/."""
    page.goto(f"{base}/accounts/sign-in/")
    page.get_by_role("link", name="Sign in", exact=True).last.click()
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", password)
    page.locator("form:has(input[name=password]) [type=submit]").first.click()
    if code is not None:
        page.fill("input[name=code]", code)
        page.locator("form:has(input[name=code]) [type=submit]").first.click()
    page.wait_for_url(f"{base}/me/")


def test_enable_totp_sign_in_with_it_end_another_session_change_password_remove_it(
    live_server, browser, new_user
):
    cognito.user_pool().reset()
    base = live_server.url
    email, password, _ = new_user(name="Alice Tester")
    mine, theirs = browser.new_context(), browser.new_context()
    try:
        page = mine.new_page()
        hosted_sign_in(page, base, email, password)

        # Enable TOTP: the secret is read from the page, as a person would type it into an app.
        page.get_by_role("link", name="Account", exact=True).click()
        page.get_by_test_id("mfa-start").click()
        assert page.get_by_test_id("totp-qr").locator("svg").count() == 1
        totp = pyotp.TOTP(page.get_by_test_id("totp-secret").inner_text().replace(" ", ""))
        # The previous step's code (accepted, one step early): the current one stays unused for
        # the sign-in below (the code that set the app up is spent).
        page.fill("input[name=code]", totp.at(time.time() - totp.interval))
        page.fill("input[name=device_name]", "Test phone")
        page.get_by_role("button", name="Turn on").click()
        assert "On: signing in asks for a code" in page.get_by_test_id("mfa-state").inner_text()

        # Sign out, then in with password + code.
        page.get_by_role("button", name="Sign out").first.click()
        page.wait_for_url(f"{base}/")
        hosted_sign_in(page, base, email, password, code=totp.now())

        # A second browser (another context) signs in too, with the next step's code (a code is
        # taken once; Cognito accepts one step early or late).
        other = theirs.new_page()
        hosted_sign_in(other, base, email, password, code=totp.at(time.time() + totp.interval))

        page.goto(f"{base}/account/")
        rows = page.get_by_test_id("session-row")
        assert rows.count() == 2
        assert UserSession.objects.filter(user__email=email).count() == 2
        page.get_by_test_id("session-end").click()
        assert page.get_by_test_id("session-row").count() == 1
        other.goto(f"{base}/me/")
        assert "/accounts/sign-in/" in other.url  # its next request is signed out

        # Change the password.
        page.fill("input[name=current_password]", password)
        page.fill("input[name=new_password1]", "Another-pass-2")
        page.fill("input[name=new_password2]", "Another-pass-2")
        page.get_by_role("button", name="Change password").click()
        assert "Your password was changed." in page.content()

        # Remove MFA: the sign-in above is recent, which is the proof of presence asked.
        page.get_by_test_id("mfa-remove").click()
        assert "Off: signing in asks for your password only." in page.get_by_test_id("mfa-state").inner_text()
        # Cognito agrees: the new password alone signs in now (no code asked).
        assert cognito.user_pool().password_sign_in(username=email, password="Another-pass-2")["AccessToken"]
    finally:
        mine.close()
        theirs.close()


def test_sign_in_again_lands_on_the_delete_form_focused_and_deletes_only_on_enter(
    live_server, browser, new_user
):
    cognito.user_pool().reset()
    base = live_server.url
    email, password, _ = new_user(name="Sudo Tester")
    context = browser.new_context()
    try:
        page = context.new_page()
        hosted_sign_in(page, base, email, password)
        make_stale_in(context)  # as an hour later

        page.goto(f"{base}/account/")
        page.get_by_test_id("reauth-link-delete").click()
        # The hosted UI asks afresh (its own session was ended), then the app brings her back.
        page.fill("input[name=username]", email)
        page.fill("input[name=password]", password)
        page.locator("form:has(input[name=password]) [type=submit]").first.click()
        page.wait_for_url(f"{base}/account/?action=delete")
        assert page.evaluate("document.activeElement.id") == "id_confirm_email"
        assert Profile.objects.filter(user__email=email).exists()  # focused, nothing submitted

        # What she types goes into that field; Enter submits that form.
        page.keyboard.type(email)
        page.keyboard.press("Enter")
        page.wait_for_url(f"{base}/")
        assert "Your account was deleted." in page.content()
        assert not Profile.objects.filter(user__email=email).exists()
    finally:
        context.close()


def test_back_for_removing_something_the_section_heading_takes_the_focus(live_server, browser, new_user):
    # Not the one-click "Remove" button: a stray Enter or Space after signing in again removes nothing.
    cognito.user_pool().reset()
    base = live_server.url
    email, password, _ = new_user(name="Focus Tester")
    context = browser.new_context()
    try:
        page = context.new_page()
        hosted_sign_in(page, base, email, password)
        for action, heading in (("mfa-remove", "mfa-title"), ("unlink", "linked-providers-title")):
            page.goto(f"{base}/account/?action={action}")
            assert page.evaluate("document.activeElement.id") == heading
            assert page.evaluate("document.activeElement.tagName") == "H2"
    finally:
        context.close()


def picture(path) -> str:
    image = Image.linear_gradient("L").resize((600, 400)).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    path.write_bytes(buffer.getvalue())
    return str(path)


def sign_up(page, base: str, email: str, password: str) -> None:
    """The app's sign-up link, the hosted sign-up page, the e-mailed code: signed in, as Cognito does."""
    page.goto(f"{base}/accounts/sign-up/")
    page.fill("input[name=email]", email)
    page.fill("input[name=name]", "Dee Leted")
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/confirm?**")
    page.fill("input[name=code]", latest_code(email))
    page.click("button[name=confirm]")
    page.wait_for_url(f"{base}/me/")


def test_sign_up_upload_a_picture_delete_the_account_and_sign_up_again(live_server, page, idp, tmp_path):
    cognito.user_pool().reset()
    base = live_server.url
    email, password = f"dee-{uuid.uuid4().hex[:8]}@example.com", "Delete-pass-1"
    sign_up(page, base, email, password)
    page.goto(f"{base}/me/avatar/")
    page.set_input_files("input[name=image]", picture(tmp_path / "me.jpg"))
    page.get_by_role("button", name="Upload").click()
    page.wait_for_url(f"{base}/me/")
    first = Profile.objects.select_related("user").get(user__email=email)
    assert first.avatar_key

    page.goto(f"{base}/account/")
    page.fill("input[name=confirm_email]", email)
    page.get_by_test_id("delete-account").click()
    page.wait_for_url(f"{base}/")
    assert "Your account was deleted." in page.content()
    assert not Profile.objects.filter(pk=first.pk).exists()

    sign_up(page, base, email, password)
    fresh = Profile.objects.get(user__email=email)
    assert fresh.pk != first.pk and fresh.user.cognito_sub != first.user.cognito_sub
    assert fresh.avatar_key == "" and fresh.bio == ""
    assert page.get_by_test_id("email").inner_text() == email
