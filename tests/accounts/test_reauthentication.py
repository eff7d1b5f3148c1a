"""Sign in again (accounts/reauthentication.py), over HTTP through the local hosted UI: back to the
action asked for, its control focused, nothing submitted; and `next` never leaves the account page."""

from __future__ import annotations

import json
import re
import time
import uuid
from http import HTTPStatus
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pyotp
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

from accounts import security, services
from accounts.reauthentication import requires_recent_sign_in
from tests.support.hosted_ui import (
    APP_HOST,
    continue_with,
    finish_sign_in,
    hosted_ui_sign_in,
    provider_round_trip,
    sign_in_again,
    through_provider,
)
from tests.support.sessions import make_stale, signed_in

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
    """The opening tags of the elements that take the focus when the page loads."""
    return re.findall(r"<(?:input|button|select|textarea|h2)\b[^>]*\bautofocus\b[^>]*>", html)


def link_next(html: str, action: str) -> str:
    """The `next` of the section's "Sign in again" link for `action`, as the page renders it."""
    href = re.search(rf'href="([^"]+)" data-testid="reauth-link-{re.escape(action)}"', html).group(1)
    parts = urlsplit(href.replace("&amp;", "&"))
    assert parts.path == "/account/reauthenticate/"
    return parse_qs(parts.query)["next"][0]


def pending_target(client: Client, hosted_url: str) -> str:
    """Where the sign-in that `hosted_url` started comes back to (kept with its state)."""
    [state] = parse_qs(urlsplit(hosted_url).query)["state"]
    return client.session["oidc_states"][state]["next"]


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


def test_removing_mfa_comes_back_to_its_section_not_onto_the_button_and_mfa_stays_on(fresh, idp):
    client, email, password = fresh
    setup, secret = start_totp(client)
    totp = pyotp.TOTP(secret)
    assert client.post("/account/mfa/verify/", {"setup": setup, "code": totp.now()}).status_code == 302
    make_stale(client)
    next_url = link_next(account_page(client), "mfa-remove")

    back = sign_in_again(client, next_url, email, password, totp.at(time.time() + totp.interval))
    assert back["Location"] == "/account/?action=mfa-remove"
    html = account_page(client, "?action=mfa-remove")
    # The section's heading, not the button: one keypress (Enter, Space) must not remove the app.
    [focused] = autofocused(html)
    assert focused.startswith("<h2") and 'id="mfa-title"' in focused and 'tabindex="-1"' in focused
    assert 'data-testid="mfa-remove"' in html
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
    assert pending_target(client, response["Location"]) == kept


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


# --- Which sign-ins count (a provider linked to a password account asks no second factor) -------


def switch_mfa_on(client: Client) -> pyotp.TOTP:
    """The authenticator app set up and on (while the sign-in is fresh); its TOTP."""
    setup, secret = start_totp(client)
    totp = pyotp.TOTP(secret)
    assert client.post("/account/mfa/verify/", {"setup": setup, "code": totp.now()}).status_code == 302
    return totp


@pytest.fixture
def alice(fresh, idp):
    """A password user with the authenticator app on and Google linked (same verified e-mail),
    signed in long ago: (client, email, password, totp)."""
    client, email, password = fresh
    totp = switch_mfa_on(client)
    provider_round_trip(client, "Google", email=email, verified=True)  # links Google to the account
    assert [p["providerName"] for p in json.loads(user_attributes(idp, email)["identities"])] == ["Google"]
    make_stale(client)
    return client, email, password, totp


def user_attributes(idp, email: str) -> dict[str, str]:
    user = idp.admin_get_user(UserPoolId=settings.COGNITO_USER_POOL_ID, Username=email)
    return {a["Name"]: a["Value"] for a in user["UserAttributes"]} | {"mfa": user.get("UserMFASettingList")}


def test_a_linked_provider_sign_in_does_not_count_as_signing_in_again(alice, idp):
    client, email, _, _ = alice
    # Google asks for no authenticator code (Cognito never does for federated sign-ins): a fresh
    # auth_time from it must not unlock removing the code.
    back = provider_round_trip(client, "Google", email=email, verified=True)
    assert back.status_code == HTTPStatus.FOUND and signed_in(client)
    assert not security.recently_signed_in(session=client.session)

    refused = client.post("/account/mfa/remove/")
    assert refused.status_code == HTTPStatus.FOUND and refused["Location"] == "/account/#mfa"
    assert user_attributes(idp, email)["mfa"] == ["SOFTWARE_TOKEN_MFA"]
    assert 'data-testid="reauth-link-mfa-remove"' in account_page(client)


def test_sign_in_again_through_a_linked_provider_is_refused_with_a_reason(alice, idp):
    client, email, _, _ = alice
    location = client.get("/account/reauthenticate/", {"next": "/account/?action=mfa-remove"})["Location"]
    # The password form only: the user pool's own sign-in, which asks for the code.
    assert parse_qs(urlsplit(location).query)["identity_provider"] == ["COGNITO"]
    with pytest.raises(AssertionError):  # no "Continue with Google" on that page
        continue_with(location, "Google")
    # Someone edits the address to go through Google all the same.
    parts = urlsplit(location)
    query = {**parse_qs(parts.query), "identity_provider": ["Google"]}
    edited = urlunsplit((parts.scheme, parts.netloc, "/oauth2/authorize", urlencode(query, doseq=True), ""))
    back = through_provider(client, edited, email=email)
    assert back["Location"] == "/account/?action=mfa-remove"
    page = client.get(back["Location"], follow=True).content.decode()
    assert "sign in again with your password" in page and not autofocused(page)
    assert client.post("/account/mfa/remove/")["Location"] == "/account/#mfa"
    assert user_attributes(idp, email)["mfa"] == ["SOFTWARE_TOKEN_MFA"]


def test_sign_in_again_with_password_and_code_still_works_for_alice(alice, idp):
    client, email, password, totp = alice
    code = totp.at(time.time() + totp.interval)
    back = sign_in_again(client, "/account/?action=mfa-remove", email, password, code)
    assert back["Location"] == "/account/?action=mfa-remove"
    assert client.post("/account/mfa/remove/")["Location"] == "/account/#mfa"
    assert not user_attributes(idp, email)["mfa"]


@pytest.fixture
def google_only(app_client):
    """Someone whom only Google signs in (a `Google_…` account, no password), signed in just now."""
    provider_round_trip(app_client, "Google", email=f"only-{uuid.uuid4().hex[:10]}@example.com")
    return app_client


def test_someone_only_google_signs_in_signs_in_again_through_google(google_only):
    client = google_only
    user = get_user_model().objects.get(pk=client.session["_auth_user_id"])
    assert security.recently_signed_in(session=client.session)
    make_stale(client)
    location = client.get("/account/reauthenticate/", {"next": "/account/?action=delete"})["Location"]
    assert "identity_provider" not in parse_qs(urlsplit(location).query)
    back = through_provider(client, continue_with(location, "Google"), email=user.email)
    assert back["Location"] == "/account/?action=delete"
    assert security.recently_signed_in(session=client.session)


def test_someone_only_google_signs_in_is_told_their_provider_handles_mfa(google_only):
    client = google_only
    html = account_page(client)
    assert 'data-testid="mfa-provider"' in html and 'data-testid="mfa-start"' not in html
    # The views refuse it too: Cognito would never ask a federated sign-in for the code.
    response = client.post("/account/mfa/start/")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert security.PROVIDER_HANDLES_MFA in response.content.decode()
    assert security.TOTP_SETUP not in client.session


GOOGLE = {"userId": "1093", "providerName": "Google", "providerType": "Google", "issuer": None}


@pytest.mark.parametrize(
    ("claims", "method"),
    [
        ({"cognito:username": "5f0c-uuid"}, services.SIGNED_IN_WITH_PASSWORD),
        ({"cognito:username": "5f0c-uuid", "identities": []}, services.SIGNED_IN_WITH_PASSWORD),
        (
            {"cognito:username": "5f0c-uuid", "identities": [{**GOOGLE, "primary": "false"}]},
            services.SIGNED_IN_WITH_LINKED_PROVIDER,
        ),
        (
            {"cognito:username": "google_1093", "identities": [{**GOOGLE, "primary": "true"}]},
            services.SIGNED_IN_WITH_OWN_PROVIDER,
        ),
        # A password account whose username merely starts like a provider's is not one.
        (
            {"cognito:username": "Google_1093x", "identities": [GOOGLE]},
            services.SIGNED_IN_WITH_LINKED_PROVIDER,
        ),
        (
            {"cognito:username": "Google_1093", "identities": "not a list"},
            services.SIGNED_IN_WITH_LINKED_PROVIDER,
        ),
    ],
)
def test_how_a_sign_in_was_made_is_read_from_its_id_token(claims, method):
    assert services.sign_in_method(id_claims=claims) == method


# --- The return target is the sign-in's own; a cancel keeps the person signed in -----------------


def test_each_tab_s_sign_in_comes_back_to_its_own_action(person):
    client, email, password = person
    first = client.get("/account/reauthenticate/", {"next": "/account/?action=delete"})["Location"]
    second = client.get("/account/reauthenticate/", {"next": "/account/?action=email"})["Location"]
    back = finish_sign_in(client, hosted_ui_sign_in(first, email, password))
    assert back["Location"] == "/account/?action=delete"
    make_stale(client)
    back = finish_sign_in(client, hosted_ui_sign_in(second, email, password))
    assert back["Location"] == "/account/?action=email"


def test_cancelling_sign_in_again_keeps_the_person_signed_in(google_only):
    client = google_only
    user = get_user_model().objects.get(pk=client.session["_auth_user_id"])
    make_stale(client)
    location = client.get("/account/reauthenticate/", {"next": "/account/?action=delete"})["Location"]
    back = through_provider(client, continue_with(location, "Google"), email=user.email, cancel=True)
    assert back.status_code == HTTPStatus.FOUND and back["Location"] == "/account/?action=delete"
    page = client.get(back["Location"])
    assert page.status_code == HTTPStatus.OK and client.session["_auth_user_id"] == str(user.pk)
    assert "Signing in again was cancelled; nothing changed." in page.content.decode()
    assert not security.recently_signed_in(session=client.session)
    [state] = parse_qs(urlsplit(location).query)["state"]
    assert state not in client.session["oidc_states"]  # used up: no replay


def test_cancelling_a_first_sign_in_still_signs_nobody_in(app_client):
    back = provider_round_trip(
        app_client, "Google", email=f"c-{uuid.uuid4().hex[:8]}@example.com", cancel=True
    )
    assert back.status_code == HTTPStatus.BAD_REQUEST and not signed_in(app_client)


# --- Unlinking a provider needs a recent sign-in too -------------------------------------------


def test_unlinking_a_provider_from_an_old_sign_in_is_refused(alice, idp):
    client, email, password, totp = alice
    html = account_page(client)
    assert 'data-testid="reauth-link-unlink"' in html
    refused = client.post("/accounts/linked-providers/unlink/", {"provider": "Google", "next": "/account/"})
    assert refused["Location"] == "/account/#linked-providers"
    assert "identities" in user_attributes(idp, email)  # still linked
    back = sign_in_again(client, link_next(html, "unlink"), email, password, totp.at(time.time() + 30))
    assert back["Location"] == "/account/?action=unlink"
    [focused] = autofocused(account_page(client, "?action=unlink"))
    assert 'id="linked-providers-title"' in focused
    done = client.post("/accounts/linked-providers/unlink/", {"provider": "Google", "next": "/account/"})
    assert done["Location"] == "/account/" and "identities" not in user_attributes(idp, email)
