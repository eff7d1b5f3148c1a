"""In Chromium: an administrator imports an invited user from the never-signed-in list, then sends
the invitation again; the invited person accepts the new one and lands on the imported account."""

from __future__ import annotations

import uuid

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model

from project.integrations import cognito
from tests.support.users import outbox

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]
POOL = settings.COGNITO_USER_POOL_ID


def sign_in(page, base_url: str, email: str, password: str, next_path: str) -> None:
    page.goto(f"{base_url}/oidc/authenticate/?next={next_path}")
    page.wait_for_url(lambda url: url.startswith(f"{base_url}{next_path}") or "/login" in url)
    if "/login" in page.url:
        page.fill("input[name=username]", email)
        page.fill("input[name=password]", password)
        page.locator("form:has(input[name=password]) [type=submit]").first.click()


def test_import_then_resend_then_the_first_sign_in_lands_on_the_imported_account(
    live_server, browser, page, new_user, idp
):
    cognito.user_pool().reset()
    base = live_server.url
    admin = new_user(groups=("admin",), name="Site Operator", role="admin")
    email = f"invitee-{uuid.uuid4().hex[:8]}@example.com"
    attributes = {"email": email, "email_verified": "true", "name": "Pending Person", "custom:role": "member"}
    answer = idp.admin_create_user(
        UserPoolId=POOL,
        Username=email,
        DesiredDeliveryMediums=["EMAIL"],
        UserAttributes=[{"Name": k, "Value": v} for k, v in attributes.items()],
    )
    sub = next(a["Value"] for a in answer["User"]["Attributes"] if a["Name"] == "sub")
    operator = browser.new_context()
    operator.set_default_timeout(15_000)
    console = operator.new_page()
    try:
        listing = "/admin/accounts/user/never-signed-in/?status=FORCE_CHANGE_PASSWORD"
        sign_in(console, base, admin.email, admin.password, listing)
        console.wait_for_url(f"{base}{listing}")
        box = console.get_by_label(f"Select {email}")
        for _ in range(50):  # other tests' invitees may come first: follow the pages
            if box.count():
                break
            console.locator("#next-page").click()
        box.check()
        console.get_by_role("button", name="Import").click()
        console.wait_for_selector(f"text={email} ({sub}): Imported")
        imported = get_user_model().objects.get(cognito_sub=sub)
        assert imported.name == "Pending Person" and imported.last_login is None

        console.goto(f"{base}/admin/accounts/user/{imported.pk}/cognito/")
        assert "FORCE_CHANGE_PASSWORD" in console.locator("#pool-state").inner_text()
        console.get_by_role("button", name="Resend invitation").click()
        console.wait_for_selector("text=Invitation sent again")
    finally:
        operator.close()

    first, second = outbox(email)[1]["code"], outbox(email)[0]["code"]
    assert first != second
    page.goto(f"{base}/oidc/authenticate/?next=/me/")
    page.wait_for_url("**/login**")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", first)  # the old invitation no longer works
    page.locator("form:has(input[name=password]) [type=submit]").first.click()
    page.wait_for_selector("text=Incorrect username or password")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", second)
    page.locator("form:has(input[name=password]) [type=submit]").first.click()
    page.wait_for_selector("input[name=password2]")
    page.fill("input[name=password]", "Chosen-pass-1")
    page.fill("input[name=password2]", "Chosen-pass-1")
    page.locator("form:has(input[name=password2]) [type=submit]").first.click()
    page.wait_for_url(f"{base}/me/**")
    assert get_user_model().objects.filter(cognito_sub=sub).count() == 1
    assert get_user_model().objects.get(cognito_sub=sub).pk == imported.pk
    idp.admin_delete_user(UserPoolId=POOL, Username=email)
