"""In Chromium: a moderator removes a member's picture; the member, in their own browser, sees why."""

from __future__ import annotations

import pytest

from profiles.models import Moderation, Profile
from project.integrations import cognito
from tests.support import images as test_images

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def sign_in_page(page, base: str, email: str, password: str) -> None:
    """The app's sign-in link, then the hosted UI's form, as a person does it."""
    page.goto(f"{base}/accounts/sign-in/")
    page.get_by_role("link", name="Sign in", exact=True).last.click()
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", password)
    page.locator("form:has(input[name=password]) [type=submit]").first.click()
    page.wait_for_url(f"{base}/me/")


def test_a_moderator_removes_a_members_picture_and_the_member_sees_why(
    live_server, browser, page, tmp_path, new_user
):
    cognito.user_pool().reset()
    base = live_server.url
    member_email, member_password, _ = new_user(name="Pat Member", role="member")
    mod_email, mod_password, _ = new_user(name="Mo Derator", role="moderator")

    # The member puts up a picture (the form; the page's JavaScript sends it straight to S3).
    sign_in_page(page, base, member_email, member_password)
    page.get_by_role("link", name="Change picture").click()
    picture = tmp_path / "me.jpg"
    picture.write_bytes(test_images.jpeg(600, 600))
    page.set_input_files("input[name=image]", str(picture))
    page.get_by_role("button", name="Upload").click()
    page.wait_for_url(f"{base}/me/")
    member = Profile.objects.get(user__email=member_email)
    assert member.avatar_key
    assert page.get_by_test_id("avatar").count() == 1

    # The moderator, in another browser, removes it from the member's page.
    context = browser.new_context()
    try:
        moderator = context.new_page()
        sign_in_page(moderator, base, mod_email, mod_password)
        moderator.goto(f"{base}/u/{member.handle}/")
        moderator.get_by_label("Reason for removing the picture (shown to the member)").fill(
            "Pictures must show you, not a logo."
        )
        moderator.get_by_role("button", name="Remove this picture").click()
        moderator.wait_for_url(f"{base}/u/{member.handle}/")
        assert "The picture is removed" in moderator.content()
        assert moderator.get_by_role("button", name="Remove this picture").count() == 0
    finally:
        context.close()

    record = Moderation.objects.get(profile=member)
    assert (record.actor_email, record.action) == (mod_email, Moderation.Action.REMOVE_AVATAR)
    assert Profile.objects.get(pk=member.pk).avatar_key == ""

    # The member sees what happened, when and why.
    page.goto(f"{base}/me/")
    history = page.get_by_test_id("moderations")
    assert "Picture removed" in history.inner_text()
    assert "Pictures must show you, not a logo." in history.inner_text()
    assert page.get_by_test_id("avatar").count() == 0
    assert page.get_by_test_id("avatar-placeholder").count() == 1
