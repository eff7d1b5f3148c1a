"""The account page over HTTP against the local stack: MFA, password, sessions (one test module per
section would repeat the same fixtures; the sections are marked below)."""

from __future__ import annotations

import contextlib
import re
import time
from http import HTTPStatus
from urllib.parse import parse_qs, unquote, urlsplit

import pyotp
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

from accounts import security, services
from accounts.models import UserSession
from project.integrations import cognito, outbound
from tests.support.hosted_ui import (
    APP_HOST,
    finish_sign_in,
    hosted_ui_sign_in_with_code,
    sign_in_again,
    start_sign_in,
)
from tests.support.markup import read_markup
from tests.support.sessions import make_stale, refresh_works, signed_in
from tests.support.waiting import wait_until

pytestmark = pytest.mark.django_db

CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)


def browser(user_agent: str = CHROME) -> Client:
    return Client(HTTP_HOST=APP_HOST, HTTP_USER_AGENT=user_agent, REMOTE_ADDR="198.51.100.23")


def page_of(client: Client) -> str:
    response = client.get("/account/")
    assert response.status_code == HTTPStatus.OK, response
    return response.content.decode()


def cognito_mfa(idp, email: str) -> list[str]:
    user = idp.admin_get_user(UserPoolId=settings.COGNITO_USER_POOL_ID, Username=email)
    return user.get("UserMFASettingList") or []


@pytest.fixture
def outage(settings):
    """`with outage():` the user-pool API is unreachable (its endpoint a port where nothing listens)."""
    original = settings.AWS_ENDPOINT_URL

    @contextlib.contextmanager
    def down():
        settings.AWS_ENDPOINT_URL, settings.COGNITO_TIMEOUT = "http://127.0.0.1:9", 1
        cognito.user_pool().reset()
        try:
            yield
        finally:
            settings.AWS_ENDPOINT_URL = original
            cognito.user_pool().reset()

    return down


@pytest.fixture
def person(signed_in_person):
    """A fresh pool user, signed in in a browser: (client, email, password)."""
    return signed_in_person(name="Page Person", client=browser())[:3]


def totp_start(client: Client) -> tuple[str, str]:
    """Start a set-up; returns (set-up id, secret) as the page shows them."""
    assert client.post("/account/mfa/start/").status_code == HTTPStatus.FOUND
    html = page_of(client)
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7 ]+)<', html).group(1).replace(" ", "")
    setup = re.search(r'name="setup" value="([^"]+)"', html).group(1)
    return setup, secret


def other_code(code: str) -> str:
    return "000000" if code != "000000" else "111111"


# --- The page itself -------------------------------------------------------------------------------


def test_the_page_needs_a_signed_in_user(app_client):
    response = app_client.get("/account/")
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith("/accounts/sign-in/")


def test_the_page_shows_each_section_from_cognito_and_is_linked(person):
    client, email, _ = person
    html = page_of(client)
    for section in ("mfa", "password", "sessions", "email", "providers", "data"):
        assert f'data-testid="section-{section}"' in html
    assert "Off: signing in asks for your password only." in html
    assert "Sign-in methods" in html and "Only your e-mail and password." in html  # issue 11's part
    assert f'data-testid="account-email">{email}<' in html
    assert 'href="/account/"' in client.get("/me/").content.decode()  # header and /me/


def test_the_state_is_read_once_then_no_other_page_calls_cognito(person):
    client, _, _ = person
    page_of(client)
    with outbound.recording() as calls:
        page_of(client)  # GetUser's answer is reused (the linked providers are read afresh)
    assert [c.operation for c in calls if c.operation.endswith(".GetUser")] == []
    with outbound.recording() as calls:
        client.get("/me/")
        client.get("/people/")
    assert calls == []


def test_cognito_unreachable_leaves_a_readable_page(person, outage):
    client, _, _ = person
    session = client.session
    session.pop(security.STATE, None)
    session.save()
    with outage():
        html = page_of(client)
    assert 'data-testid="state-error"' in html and "cannot be reached" in html
    assert 'data-testid="session-row"' in html  # what is local still works


# --- Authenticator app -----------------------------------------------------------------------------


def test_totp_set_up_with_qr_and_grouped_secret_then_sign_in_asks_for_the_code(person, idp):
    client, email, password = person
    setup, secret = totp_start(client)
    html = page_of(client)
    assert "<svg" in html and 'data-testid="totp-qr"' in html
    grouped = re.search(r'data-testid="totp-secret">([A-Z2-7 ]+)<', html).group(1)
    assert all(len(group) == 4 for group in grouped.split(" ")[:-1])
    totp = pyotp.TOTP(secret)

    wrong = client.post("/account/mfa/verify/", {"setup": setup, "code": other_code(totp.now())})
    assert wrong.status_code == HTTPStatus.BAD_REQUEST
    assert security.WRONG_TOTP in wrong.content.decode()
    assert "Invalid code" not in wrong.content.decode()
    assert secret in wrong.content.decode().replace(" ", "")  # the same set-up goes on
    assert cognito_mfa(idp, email) == []

    done = client.post("/account/mfa/verify/", {"setup": setup, "code": totp.now(), "device_name": "Phone"})
    assert done.status_code == HTTPStatus.FOUND
    assert cognito_mfa(idp, email) == ["SOFTWARE_TOKEN_MFA"]
    assert "On: signing in asks for a code" in page_of(client)

    other = browser()
    callback = hosted_ui_sign_in_with_code(
        start_sign_in(other), email, password, totp.at(time.time() + totp.interval)
    )
    assert finish_sign_in(other, callback).status_code == HTTPStatus.FOUND and signed_in(other)


def test_five_wrong_codes_end_a_set_up_said_on_the_form(person, idp):
    client, email, _ = person
    setup, secret = totp_start(client)
    totp = pyotp.TOTP(secret)
    for _ in range(5):
        client.post("/account/mfa/verify/", {"setup": setup, "code": other_code(totp.now())})
    response = client.post("/account/mfa/verify/", {"setup": setup, "code": totp.now()})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    too_many = r'id="id_code_error">(?:<span[^>]*>Error: </span>)?[^<]*Too many wrong codes'
    assert re.search(too_many, response.content.decode())
    assert cognito_mfa(idp, email) == []
    again, new_secret = totp_start(client)  # a new key starts a new count
    ok = client.post("/account/mfa/verify/", {"setup": again, "code": pyotp.TOTP(new_secret).now()})
    assert ok.status_code == HTTPStatus.FOUND and cognito_mfa(idp, email) == ["SOFTWARE_TOKEN_MFA"]


def test_the_qr_code_carries_the_otpauth_uri(person):
    client, email, _ = person
    setup_id, secret = totp_start(client)
    current = security.mfa_setup_current(session=client.session, email=email)
    assert current.uri == f"otpauth://totp/Profiles:{email}?secret={secret}&issuer=Profiles"
    assert current.id == setup_id


def test_a_code_format_error_never_reaches_cognito(person):
    client, _, _ = person
    setup, _ = totp_start(client)
    response = client.post("/account/mfa/verify/", {"setup": setup, "code": "12ab"})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "Enter the 6-digit code." in response.content.decode()


def test_two_tabs_the_older_set_up_is_told_it_was_replaced(person, idp):
    client, email, _ = person
    first_setup, first_secret = totp_start(client)
    second_setup, second_secret = totp_start(client)  # the second tab
    response = client.post(
        "/account/mfa/verify/", {"setup": first_setup, "code": pyotp.TOTP(first_secret).now()}
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "A newer set-up was started" in response.content.decode()
    assert cognito_mfa(idp, email) == []
    ok = client.post("/account/mfa/verify/", {"setup": second_setup, "code": pyotp.TOTP(second_secret).now()})
    assert ok.status_code == HTTPStatus.FOUND and cognito_mfa(idp, email) == ["SOFTWARE_TOKEN_MFA"]


def test_cognito_down_during_set_up_says_so_and_keeps_it_going(person, outage):
    client, _, _ = person
    setup, secret = totp_start(client)
    with outage():
        response = client.post("/account/mfa/verify/", {"setup": setup, "code": pyotp.TOTP(secret).now()})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert security.UNAVAILABLE in response.content.decode()
    assert (
        client.post("/account/mfa/verify/", {"setup": setup, "code": pyotp.TOTP(secret).now()}).status_code
        == 302
    )


def test_verified_but_not_switched_on_is_shown_and_can_be_finished(person, idp, monkeypatch):
    client, email, _ = person
    setup, secret = totp_start(client)
    real = cognito.CognitoUserPool.account_call

    def set_preference_fails(self, operation, **kwargs):
        # Cognito failing between the two calls: the stack cannot produce this on demand.
        if operation == "set_user_mfa_preference":
            raise cognito.CognitoUnavailable("simulated")
        return real(self, operation, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(cognito.CognitoUserPool, "account_call", set_preference_fails)
        response = client.post("/account/mfa/verify/", {"setup": setup, "code": pyotp.TOTP(secret).now()})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "not switched on yet" in response.content.decode()
    assert cognito_mfa(idp, email) == []  # the page says what Cognito has
    assert client.post("/account/mfa/switch-on/").status_code == HTTPStatus.FOUND
    assert cognito_mfa(idp, email) == ["SOFTWARE_TOKEN_MFA"]


def test_removing_mfa_needs_a_fresh_sign_in_with_the_code(person, idp):
    client, email, password = person
    setup, secret = totp_start(client)
    totp = pyotp.TOTP(secret)
    client.post("/account/mfa/verify/", {"setup": setup, "code": totp.now()})
    make_stale(client)

    assert 'data-testid="reauth-mfa"' in page_of(client)
    refused = client.post("/account/mfa/remove/")
    assert refused.status_code == HTTPStatus.FOUND
    assert cognito_mfa(idp, email) == ["SOFTWARE_TOKEN_MFA"]

    back = sign_in_again(client, "/account/#mfa", email, password, totp.at(time.time() + totp.interval))
    assert back.status_code == HTTPStatus.FOUND and back["Location"] == "/account/#mfa"
    assert 'data-testid="mfa-remove"' in page_of(client)
    assert client.post("/account/mfa/remove/").status_code == HTTPStatus.FOUND
    assert cognito_mfa(idp, email) == []
    assert "Off: signing in asks for your password only." in page_of(client)


def cache_says_off(client: Client) -> None:
    """The page's cached GetUser answer says MFA is off (as within ACCOUNT_STATE_SECONDS of a read)."""
    page_of(client)
    session = client.session
    state = dict(session[security.STATE], mfa_enabled=False, mfa_preferred=False, read_at=time.time())
    session[security.STATE] = state
    session.save()


def test_a_stale_session_cannot_replace_an_app_that_is_on(person, idp):
    client, email, _ = person
    setup, secret = totp_start(client)
    assert (
        client.post("/account/mfa/verify/", {"setup": setup, "code": pyotp.TOTP(secret).now()}).status_code
        == 302
    )
    make_stale(client)  # as a session signed in long ago (or stolen) would be
    cache_says_off(client)

    response = client.post("/account/mfa/start/")
    assert response.status_code == HTTPStatus.FOUND and response["Location"] == "/account/#mfa"
    assert security.TOTP_SETUP not in client.session
    assert 'data-testid="reauth-mfa"' in page_of(client)
    # Even a set-up started while the sign-in was fresh cannot be finished once it is stale.
    session = client.session
    session[security.TOTP_SETUP] = {"id": "forged", "secret": secret}
    session.save()
    cache_says_off(client)
    finish = client.post("/account/mfa/verify/", {"setup": "forged", "code": pyotp.TOTP(secret).now()})
    assert finish.status_code == HTTPStatus.FOUND and finish["Location"] == "/account/#mfa"
    assert client.post("/account/mfa/switch-on/").status_code == HTTPStatus.FOUND
    assert cognito_mfa(idp, email) == ["SOFTWARE_TOKEN_MFA"]
    with pytest.raises(security.ActionFailed):
        security.mfa_setup_start(session=client.session, email=email)


def test_a_stale_session_cannot_switch_on_an_app_of_its_own(person, idp):
    client, email, _ = person
    make_stale(client)
    assert 'data-testid="mfa-start"' not in page_of(client)
    assert 'data-testid="reauth-mfa"' in page_of(client)
    response = client.post("/account/mfa/start/")
    assert response.status_code == HTTPStatus.FOUND and response["Location"] == "/account/#mfa"
    assert security.TOTP_SETUP not in client.session
    assert cognito_mfa(idp, email) == []


def test_a_set_up_started_fresh_cannot_be_finished_once_the_sign_in_is_stale(person, idp):
    client, email, _ = person
    setup, secret = totp_start(client)
    make_stale(client)
    response = client.post("/account/mfa/verify/", {"setup": setup, "code": pyotp.TOTP(secret).now()})
    assert response.status_code == HTTPStatus.FOUND and response["Location"] == "/account/#mfa"
    assert cognito_mfa(idp, email) == []
    with pytest.raises(security.ActionFailed):
        security.mfa_setup_finish(
            session=client.session, setup_id=setup, code=pyotp.TOTP(secret).now(), device_name=""
        )
    assert cognito_mfa(idp, email) == []


# --- Password --------------------------------------------------------------------------------------


def test_password_rules_are_the_pools(person, idp):
    client, _, _ = person
    policy = idp.describe_user_pool(UserPoolId=settings.COGNITO_USER_POOL_ID)["UserPool"]["Policies"]
    html = page_of(client)
    assert f"At least {policy['PasswordPolicy']['MinimumLength']} characters" in html
    assert ("at least a symbol" in html) == bool(policy["PasswordPolicy"]["RequireSymbols"])


@pytest.mark.parametrize(
    ("data", "field", "sentence"),
    [
        ({"current_password": "Wrong-pass-9", "new_password1": "New-pass-22", "new_password2": "New-pass-22"},
         "current_password", "Your current password is not right."),
        ({"current_password": "Test-pass-1", "new_password1": "short", "new_password2": "short"},
         "new_password1", "The new password does not meet the rules above."),
        ({"current_password": "Test-pass-1", "new_password1": "New-pass-22", "new_password2": "New-pass-23"},
         "new_password2", "The two new passwords differ."),
    ],
)  # fmt: skip
def test_password_errors_land_on_their_field(person, data, field, sentence):
    client, _, _ = person
    response = client.post("/account/password/", data)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    html = response.content.decode()
    assert re.search(rf'id="id_{field}_error">.*?{re.escape(sentence)}', html), html[:3000]
    assert signed_in(client)


def test_wrong_current_passwords_hit_cognitos_attempt_limit_said_on_the_form(person):
    client, _, _ = person
    wrong = {
        "current_password": "Wrong-pass-9",
        "new_password1": "New-pass-22",
        "new_password2": "New-pass-22",
    }
    limited = re.compile(
        r'id="id_current_password_error">(?:<span[^>]*>Error: </span>)?[^<]*Too many wrong passwords'
    )

    def refused_as_too_many() -> bool:
        response = client.post("/account/password/", wrong)
        assert response.status_code == HTTPStatus.BAD_REQUEST
        return bool(limited.search(response.content.decode()))

    # Five wrong ones lock for 1 s, then each counted one doubles it (localcloud's lockout).
    wait_until(refused_as_too_many, timeout=60, interval=0, what="LimitExceededException on the form")
    assert signed_in(client)


def test_a_password_change_signs_out_the_other_sessions_only(person, sign_in):
    client, email, password = person
    other = browser(IPHONE)
    sign_in(email, password, client=other)
    other_refresh = other.session[services.REFRESH_TOKEN]

    response = client.post(
        "/account/password/",
        {"current_password": password, "new_password1": "Changed-pass-7", "new_password2": "Changed-pass-7"},
    )

    assert response.status_code == HTTPStatus.FOUND
    assert signed_in(client) and not signed_in(other)
    assert not refresh_works(other_refresh)
    assert cognito.user_pool().password_sign_in(username=email, password="Changed-pass-7")["AccessToken"]


def test_password_change_with_cognito_down_changes_nothing(person, sign_in, outage):
    client, email, password = person
    with outage():
        response = client.post(
            "/account/password/",
            {
                "current_password": password,
                "new_password1": "Changed-pass-7",
                "new_password2": "Changed-pass-7",
            },
        )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert security.UNAVAILABLE in response.content.decode()
    assert cognito.user_pool().password_sign_in(username=email, password=password)["AccessToken"]


# --- Sessions --------------------------------------------------------------------------------------


def test_sessions_are_listed_with_browser_and_address_never_their_keys(person, sign_in):
    client, email, password = person
    other = browser(IPHONE)
    sign_in(email, password, client=other)
    html = page_of(client)
    assert html.count('data-testid="session-row"') == 2
    assert "Chrome 131 on Linux" in html and "Mobile Safari 17 on iOS (iPhone)" in html
    assert "198.51.100.0/24" in html and "198.51.100.23" not in html
    for key in UserSession.objects.values_list("session_id", flat=True):
        assert key not in html


def test_ending_another_session_signs_it_out_at_its_next_request(person, sign_in):
    client, email, password = person
    other = browser(IPHONE)
    sign_in(email, password, client=other)
    html = page_of(client)
    ids = re.findall(r'name="session" value="([0-9a-f]+)"', html)
    assert len(ids) == 1  # only the other one has a button
    assert client.post("/account/sessions/end/", {"session": ids[0]}).status_code == HTTPStatus.FOUND
    assert not signed_in(other) and signed_in(client)


def test_another_users_session_cannot_be_ended(person, new_user, sign_in):
    client, _, _ = person
    email, password, _ = new_user()
    victim = browser()
    sign_in(email, password, client=victim)
    victim_id = re.findall(r'name="session" value="([0-9a-f]+)"', page_of(victim))
    victim_own = victim.session.session_key
    from accounts.selectors import session_public_id

    for forged in (session_public_id(victim_own), victim_own, *victim_id, "x" * 500):
        client.post("/account/sessions/end/", {"session": forged})
    assert signed_in(victim)


def test_sign_out_everywhere_kills_every_refresh_token_at_cognito(person, sign_in):
    client, email, password = person
    other = browser(IPHONE)
    sign_in(email, password, client=other)
    tokens = [client.session[services.REFRESH_TOKEN], other.session[services.REFRESH_TOKEN]]
    api_refresh = cognito.user_pool().password_sign_in(username=email, password=password)["RefreshToken"]

    response = client.post("/account/sessions/end-all/")

    assert response.status_code == HTTPStatus.FOUND
    assert urlsplit(response["Location"]).path.endswith("/logout")  # the hosted-UI session too
    assert not signed_in(client) and not signed_in(other)
    assert not any(refresh_works(t) for t in (*tokens, api_refresh))  # GlobalSignOut


def test_the_page_promises_no_more_than_sign_out_does(person):
    """The hosted-UI cookie of another browser survives GlobalSignOut and ChangePassword (as on AWS):
    the notes say so, with its lifetime, instead of "every browser" being signed out."""
    html = " ".join(page_of(person[0]).split())
    for note in ("sign-out-everywhere-note", "password-note"):
        text = re.search(rf'data-testid="{note}">([^<]+)<', html).group(1)
        assert "signed in to this site" in text
        assert "still signed in at the sign-in service" in text and "at most an hour" in text


def test_sign_out_everywhere_with_cognito_down_ends_nothing(person, outage):
    client, _, _ = person
    with outage():
        response = client.post("/account/sessions/end-all/")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert security.UNAVAILABLE in response.content.decode()
    assert signed_in(client)


def test_every_form_is_post_and_csrf_protected(sign_in):
    client = Client(HTTP_HOST=APP_HOST, enforce_csrf_checks=True)
    sign_in(client=client)
    for url in ("/account/mfa/start/", "/account/password/", "/account/sessions/end-all/",
                "/account/email/", "/account/delete/", "/account/mfa/remove/"):  # fmt: skip
        assert client.get(url).status_code == HTTPStatus.METHOD_NOT_ALLOWED
        assert client.post(url).status_code == HTTPStatus.FORBIDDEN
    assert signed_in(client)
    assert get_user_model().objects.filter(email="alice@example.com").exists()


def test_the_reauthentication_link_goes_through_cognitos_logout_and_back(person):
    client, _, _ = person
    response = client.get("/account/reauthenticate/", {"next": "/account/#email"})
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == f"{settings.COGNITO_DOMAIN}/logout"
    query = parse_qs(location.query)
    assert query["response_type"] == ["code"] and query["client_id"] == [settings.COGNITO_CLIENT_ID]
    assert unquote(query["redirect_uri"][0]).endswith("/oidc/callback/")
    assert query["code_challenge_method"] == ["S256"]
    for evil in ("https://evil.example/", "//evil.example/"):
        [state] = parse_qs(
            urlsplit(client.get("/account/reauthenticate/", {"next": evil})["Location"]).query
        )["state"]
        assert client.session["oidc_states"][state]["next"] == "/account/"


def test_a_code_from_another_users_authenticator_is_refused(person, new_user, sign_in, idp):
    client, email, _ = person
    other_email, other_password, _ = new_user()
    other = browser()
    sign_in(other_email, other_password, client=other)
    _, their_secret = totp_start(other)
    setup, my_secret = totp_start(client)
    their_code = pyotp.TOTP(their_secret).now()
    if their_code != pyotp.TOTP(my_secret).now():  # random secrets: equal codes once in a million
        response = client.post("/account/mfa/verify/", {"setup": setup, "code": their_code})
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert security.WRONG_TOTP in response.content.decode()
    assert cognito_mfa(idp, email) == [] and cognito_mfa(idp, other_email) == []


def test_sessions_signed_in_before_the_index_are_indexed_by_the_migration(person):
    import importlib

    from django.apps import apps

    client, _, _ = person
    key = client.session.session_key
    UserSession.objects.filter(session_id=key).delete()
    migration = importlib.import_module("accounts.migrations.0004_user_sessions")
    migration.index_signed_in_sessions(apps, None)
    assert UserSession.objects.get(session_id=key).user.email == person[1]


def test_a_set_up_finished_in_another_tab_is_reported_in_the_first(person, idp):
    client, email, _ = person
    setup, secret = totp_start(client)
    totp = pyotp.TOTP(secret)
    assert client.post("/account/mfa/verify/", {"setup": setup, "code": totp.now()}).status_code == 302
    late = client.post("/account/mfa/verify/", {"setup": setup, "code": totp.now()})  # the other tab
    assert late.status_code == HTTPStatus.BAD_REQUEST
    html = late.content.decode()
    assert "This set-up has ended." in html and "On: signing in asks for a code" in html
    assert cognito_mfa(idp, email) == ["SOFTWARE_TOKEN_MFA"]


@pytest.mark.parametrize(
    ("url", "data"),
    [
        ("/account/mfa/start/", {}),
        ("/account/mfa/switch-on/", {}),
        ("/account/mfa/remove/", {}),
        ("/account/email/cancel/", {}),
    ],
)
def test_cognito_unreachable_at_each_other_step_is_said_plainly(person, outage, url, data):
    client, email, _ = person
    get_user_model().objects.filter(email=email).update(pending_email="waiting@example.com")
    with outage():
        response = client.post(url, data)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert security.UNAVAILABLE in response.content.decode()
    assert signed_in(client)


# --- Accessible forms (as the profile edit form) ------------------------------------------------


def test_account_form_errors_are_summarised_linked_and_described_in_plain_words(person):
    client, _, _ = person
    response = client.post(
        "/account/password/", {"current_password": "", "new_password1": "", "new_password2": ""}
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    page = response.content.decode()
    markup = read_markup(page)
    assert markup.dangling() == []  # every aria-describedby id exists
    summary = re.search(
        r'<div class="form-errors" id="error-summary" tabindex="-1" autofocus.*?</div>', page, re.S
    )
    assert summary, page
    links = re.findall(r'<a href="#([^"]+)">', summary.group(0))
    assert links == ["id_current_password", "id_new_password1", "id_new_password2"]
    for field_id in links:
        assert markup.controls[field_id]["aria-invalid"] == "true"
        assert f"{field_id}_error" in markup.controls[field_id]["aria-describedby"].split()
    assert "Enter your current password." in page and "This field is required" not in page
    # The site's form styles (44 px controls) apply: the form is a stacked one.
    assert re.search(r'<form method="post" action="/account/password/" class="stacked"', page)

    response = client.post("/account/email/", {"email": "not an address"})
    page = response.content.decode()
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert read_markup(page).dangling() == []
    assert "Enter an e-mail address like name@example.com." in page and "Enter a valid email" not in page
