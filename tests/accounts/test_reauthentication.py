"""Sign in again (accounts/reauthentication.py), over HTTP through the local hosted UI: back to the
action asked for, its control focused, nothing submitted; and `next` never leaves the account page."""

from __future__ import annotations

import re
import time
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

from accounts import security
from accounts.reauthentication import requires_recent_sign_in
from tests.support.hosted_ui import APP_HOST, sign_in_again
from tests.support.sessions import make_stale

pytestmark = pytest.mark.django_db


@pytest.fixture
def fresh(signed_in_person):
    """A new pool user, just signed in: (client, email, password)."""
    return signed_in_person(name="Again Person")[:3]


@pytest.fixture
def person(fresh):
    """The same, signed in long ago (older than ACCOUNT_REAUTH_SECONDS)."""
    make_stale(fresh[0])
    return fresh


def account_page(client: Client, query: str = "") -> str:
    response = client.get(f"/account/{query}")
    assert response.status_code == HTTPStatus.OK, response
    return response.content.decode()


def autofocused(html: str) -> list[str]:
    """The opening tags of the controls that take the focus when the page loads."""
    return re.findall(r"<(?:input|button|select|textarea)\b[^>]*\bautofocus\b[^>]*>", html)


def link_next(html: str, action: str) -> str:
    """The `next` of the section's "Sign in again" link for `action`, as the page renders it."""
    href = re.search(rf'href="([^"]+)" data-testid="reauth-link-{re.escape(action)}"', html).group(1)
    parts = urlsplit(href.replace("&amp;", "&"))
    assert parts.path == "/account/reauthenticate/"
    return parse_qs(parts.query)["next"][0]


def start_totp(client: Client) -> tuple[str, str]:
    """A set-up started (while the sign-in is fresh): (set-up id, secret) as the page shows them."""
    assert client.post("/account/mfa/start/").status_code == HTTPStatus.FOUND
    html = account_page(client)
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7 ]+)<', html).group(1).replace(" ", "")
    return re.search(r'name="setup" value="([^"]+)"', html).group(1), secret


@pytest.mark.parametrize(
    ("action", "control"),
    [
        ("email", 'id="id_email"'),
        ("delete", 'id="id_confirm_email"'),
        ("mfa-start", 'data-testid="mfa-start"'),
    ],
)
def test_sign_in_again_comes_back_to_the_action_focused_and_submits_nothing(person, action, control):
    client, email, password = person
    html = account_page(client)
    assert not autofocused(html)
    next_url = link_next(html, action)

    back = sign_in_again(client, next_url, email, password)
    assert back.status_code == HTTPStatus.FOUND and back["Location"] == f"/account/?action={action}"
    [focused] = autofocused(account_page(client, f"?action={action}"))
    assert control in focused
    # Only the page came back: no address change started, no account deleted, no set-up begun.
    user = get_user_model().objects.get(email=email)
    assert user.pending_email == "" and user.is_active
    assert security.TOTP_SETUP not in client.session


def test_a_set_up_left_half_done_comes_back_to_its_code_field(fresh):
    client, email, password = fresh
    setup, _ = start_totp(client)
    make_stale(client)
    next_url = link_next(account_page(client), "mfa-verify")

    assert sign_in_again(client, next_url, email, password)["Location"] == "/account/?action=mfa-verify"
    html = account_page(client, "?action=mfa-verify")
    [focused] = autofocused(html)
    assert 'name="code"' in focused and f'value="{setup}"' in html  # the same set-up, not a new one


def test_a_code_accepted_but_not_switched_on_comes_back_to_switch_it_on(fresh, faults, idp):
    client, email, password = fresh
    setup, secret = start_totp(client)
    # Cognito failing between VerifySoftwareToken and SetUserMFAPreference (retries included).
    faults.put("SetUserMFAPreference", ErrorType="InternalErrorException", Status=500, Count=0)
    client.post("/account/mfa/verify/", {"setup": setup, "code": pyotp.TOTP(secret).now()})
    assert faults.hits("SetUserMFAPreference") >= 1
    faults.clear()
    make_stale(client)
    next_url = link_next(account_page(client), "mfa-switch-on")

    assert sign_in_again(client, next_url, email, password)["Location"] == "/account/?action=mfa-switch-on"
    [focused] = autofocused(account_page(client, "?action=mfa-switch-on"))
    assert focused.startswith("<button")
    at_cognito = idp.admin_get_user(UserPoolId=settings.COGNITO_USER_POOL_ID, Username=email)
    assert not at_cognito.get("UserMFASettingList")  # focused, not switched on
    assert client.post("/account/mfa/switch-on/").status_code == HTTPStatus.FOUND


def test_removing_mfa_comes_back_to_the_remove_button_and_mfa_stays_on(fresh, idp):
    client, email, password = fresh
    setup, secret = start_totp(client)
    totp = pyotp.TOTP(secret)
    assert client.post("/account/mfa/verify/", {"setup": setup, "code": totp.now()}).status_code == 302
    make_stale(client)
    next_url = link_next(account_page(client), "mfa-remove")

    back = sign_in_again(client, next_url, email, password, totp.at(time.time() + totp.interval))
    assert back["Location"] == "/account/?action=mfa-remove"
    [focused] = autofocused(account_page(client, "?action=mfa-remove"))
    assert 'data-testid="mfa-remove"' in focused
    at_cognito = idp.admin_get_user(UserPoolId=settings.COGNITO_USER_POOL_ID, Username=email)
    assert at_cognito["UserMFASettingList"] == ["SOFTWARE_TOKEN_MFA"]  # focused, not removed


@pytest.mark.parametrize("evil", ["//evil.example", "https://evil.example/", "/\\evil.example", "/me/"])
def test_sign_in_again_never_leaves_the_account_page(person, evil):
    client, email, password = person
    back = sign_in_again(client, evil, email, password)
    assert back.status_code == HTTPStatus.FOUND and back["Location"] == "/account/"


@pytest.mark.parametrize(
    ("next_url", "kept"),
    [
        ("/account/#email", "/account/#email"),
        ("/account/?action=delete", "/account/?action=delete"),
        ("/account/?action=delete&next=//evil.example#delete", "/account/?action=delete"),
        ("/account/?action=nothing#mfa", "/account/#mfa"),
        ("/account/?action=nothing#nowhere", "/account/"),
        ("/account/../me/", "/account/"),
        ("/account/reauthenticate/?next=//evil.example", "/account/"),
        ("/\t/evil.example/account/", "/account/"),
        (f"http://{APP_HOST}/account/", "/account/"),
        ("javascript:alert(1)//account/", "/account/"),
        ("http://[::1/account/", "/account/"),
        ("", "/account/"),
    ],
)
def test_the_return_target_keeps_only_the_account_page_an_action_and_a_section(person, next_url, kept):
    client, _, _ = person
    response = client.get("/account/reauthenticate/", {"next": next_url})
    assert response.status_code == HTTPStatus.FOUND
    assert client.session["oidc_login_next"] == kept


def test_an_action_asked_for_focuses_nothing_while_the_sign_in_is_old(person):
    client, _, _ = person
    html = account_page(client, "?action=delete")
    assert not autofocused(html) and 'data-testid="reauth-delete"' in html


def test_an_unknown_action_focuses_nothing(fresh):
    client, _, _ = fresh
    assert autofocused(account_page(client, "?action=delete"))
    assert not autofocused(account_page(client, "?action=remove-everything"))


def test_the_decorator_names_a_section_of_the_page():
    with pytest.raises(ValueError, match="not a section"):
        requires_recent_sign_in("nowhere")
