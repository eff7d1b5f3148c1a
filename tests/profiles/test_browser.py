"""Alice edits her profile in Chromium and sees it on her public page; visibility for a visitor."""

from __future__ import annotations

import pytest

from profiles.models import Profile
from project.integrations import cognito
from tests.support.hosted_ui import sign_in_as_alice
from tests.support.users import make_member

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_alice_edits_her_profile_and_a_visitor_sees_only_what_is_public(live_server, browser, page):
    cognito.user_pool().reset()
    base = live_server.url
    sign_in_as_alice(page, base)

    page.get_by_role("link", name="Edit profile").click()
    page.fill("input[name=handle]", "alice-example")
    page.fill("input[name=pronouns]", "she/her")
    page.fill("textarea[name=bio]", "Hello <b>world</b>")
    page.select_option("select[name=visibility]", "public")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(f"{base}/me/")
    assert "Profile saved" in page.content()

    page.goto(f"{base}/u/alice-example/")
    assert page.get_by_test_id("bio").inner_text() == "Hello <b>world</b>"  # shown escaped

    _, hidden = make_member(name="Members Only", visibility=Profile.Visibility.MEMBERS)
    visitor = browser.new_context()
    try:
        anon = visitor.new_page()
        response = anon.goto(f"{base}/u/alice-example/")
        assert response.status == 200
        assert anon.get_by_test_id("display-name").inner_text() == "Alice Example"
        assert anon.goto(f"{base}/u/{hidden.handle}/").status == 404
    finally:
        visitor.close()
