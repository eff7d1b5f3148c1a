"""Journeys in Chromium as people make them: sign up and be signed in, a phone's photo, a search."""

from __future__ import annotations

import secrets

import pytest
from django.conf import settings

from profiles.models import Profile
from tests.support.hosted_ui import sign_in_as_alice
from tests.support.ui import latest_code, phone_jpeg
from tests.support.users import make_member

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_home_to_the_hosted_page_in_one_click_then_sign_up_confirm_and_be_signed_in(live_server, page):
    base = live_server.url
    email = f"journey-{secrets.token_hex(4)}@example.com"
    page.goto(f"{base}/")
    page.get_by_role("link", name="Sign in", exact=True).first.click()
    page.wait_for_url(f"{settings.COGNITO_DOMAIN}/login?**")  # one click: Cognito's page
    assert page.get_by_role("link", name="← Back to Profiles").get_attribute("href") == f"{base}/"

    page.get_by_role("link", name="Sign up").click()
    page.fill("input[name=email]", email)
    page.fill("input[name=name]", "Journey Person")
    page.fill("input[name=password]", "Journey-pass-1")
    assert page.locator("#signup-password-rules li.met").count() == 5  # every rule ticked as typed
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url("**/confirm?**")
    page.fill("input[name=code]", latest_code(email))
    page.get_by_role("button", name="Confirm account").click()

    # No second sign-in: Cognito signs the new user in and returns to the app.
    page.wait_for_url(f"{base}/me/")
    assert page.get_by_test_id("email").inner_text() == email
    assert page.get_by_test_id("complete-profile").is_visible()


def test_a_13_mb_photo_from_a_phone_is_made_smaller_in_the_browser_and_uploads(live_server, page, tmp_path):
    base = live_server.url
    photo = phone_jpeg(tmp_path / "IMG_4032.jpg")
    sign_in_as_alice(page, base)
    page.get_by_role("link", name="Change picture").click()
    page.set_input_files("input[name=image]", str(photo))
    note = page.locator("#avatar-preview-note")
    note.wait_for(state="visible", timeout=30_000)
    assert "was made smaller" in note.inner_text()
    assert page.locator("#avatar-preview-image").evaluate("img => img.naturalWidth") > 0
    page.get_by_role("button", name="Upload").click()
    page.wait_for_url(f"{base}/me/", timeout=30_000)
    assert "Your picture is saved" in page.content()
    page.wait_for_function("document.querySelector('[data-testid=avatar]').naturalWidth === 512")
    assert Profile.objects.get(user__email="alice@example.com").avatar_key

    # Removing asks first.
    page.goto(f"{base}/me/avatar/")
    remove = page.get_by_role("button", name="Yes, remove my picture")
    assert not remove.is_visible()
    page.get_by_text("Remove picture…").click()
    remove.click()
    page.wait_for_url(f"{base}/me/")
    assert "Your picture is removed" in page.content()


def test_a_file_that_is_not_a_picture_is_refused_on_selection_not_after_upload(live_server, page, tmp_path):
    base = live_server.url
    sign_in_as_alice(page, base)
    page.goto(f"{base}/me/avatar/")
    big = tmp_path / "notes.pdf"
    big.write_bytes(b"%PDF-1.4\n" + b"x" * 100)
    page.set_input_files("input[name=image]", str(big))
    assert "is not a JPEG, PNG, WebP, GIF or HEIC image" in page.locator("#avatar-error").inner_text()


def test_nina_finds_nina_with_its_accent(live_server, page):
    make_member(name="Niná Quispe", college="Universidad de Córdoba")
    base = live_server.url
    sign_in_as_alice(page, base)
    page.goto(f"{base}/people/")
    page.get_by_role("searchbox").fill("nina")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/people/?q=nina")
    assert page.get_by_role("link", name="Niná Quispe").is_visible()
    assert page.get_by_test_id("result-count").inner_text().startswith("1 person matches")


def tab_to(page, text: str, limit: int = 40) -> None:
    """Press Tab until the focused element's text or id is `text` (a keyboard user's way)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate("() => [document.activeElement.innerText || '', document.activeElement.id]")
        if text in (focused[0].strip(), focused[1]):
            return
    raise AssertionError(f"Tab never reached {text!r}")


def test_keyboard_only_sign_in_edit_and_the_error_summary(live_server, page):
    base = live_server.url
    page.goto(f"{base}/")
    tab_to(page, "Sign in")
    page.keyboard.press("Enter")
    page.wait_for_selector("input[name=username]:focus")  # the hosted page starts in the e-mail field
    page.keyboard.type("alice@example.com")
    page.keyboard.press("Tab")
    page.keyboard.type("Alice-pass-1")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/me/")
    tab_to(page, "Edit profile")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/me/edit/")
    tab_to(page, "id_handle")
    page.keyboard.press("Control+A")
    page.keyboard.type("No Good!")
    page.keyboard.press("Enter")
    page.wait_for_selector("#error-summary")
    # The summary takes focus, is read first, and leads to the field.
    assert page.evaluate("document.activeElement.id") == "error-summary"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('href')") == "#id_handle"
    assert page.locator("#id_handle").get_attribute("aria-invalid") == "true"
