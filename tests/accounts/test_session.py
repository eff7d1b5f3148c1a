"""Refresh with the refresh token, sign-out with revocation and Cognito /logout, failure pages."""

from __future__ import annotations

import logging
import socket
import threading
import time
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

from accounts import services
from project.integrations import cognito, outbound
from tests.support.hosted_ui import APP_HOST, finish_sign_in, hosted_ui_sign_in, start_sign_in

pytestmark = pytest.mark.django_db


def expire_soon(client) -> None:
    session = client.session
    session[services.EXPIRES_AT] = int(time.time()) + 5
    session.save()


def refresh_grant(refresh_token: str) -> requests.Response:
    return requests.post(
        cognito.user_pool().endpoint("token_endpoint"),
        data={"grant_type": "refresh_token", "refresh_token": refresh_token},
        auth=(settings.COGNITO_CLIENT_ID, settings.COGNITO_CLIENT_SECRET),
        timeout=10,
    )


def test_tokens_near_expiry_are_refreshed(sign_in, app_client):
    sign_in()
    before = dict(app_client.session)
    expire_soon(app_client)

    assert app_client.get("/me/").status_code == HTTPStatus.OK

    after = app_client.session
    assert after[services.ACCESS_TOKEN] != before[services.ACCESS_TOKEN]
    assert after[services.ID_TOKEN] != before[services.ID_TOKEN]
    assert after[services.REFRESH_TOKEN] == before[services.REFRESH_TOKEN]
    assert after[services.EXPIRES_AT] > time.time() + 3000
    claims = cognito.user_pool().verify_token(after[services.ID_TOKEN], token_use="id")
    assert claims["email"] == "alice@example.com"


def test_a_revoked_refresh_token_ends_the_session(sign_in, app_client):
    sign_in()
    refresh_token = app_client.session[services.REFRESH_TOKEN]
    cognito.user_pool().revoke(refresh_token)
    expire_soon(app_client)

    response = app_client.get("/me/")

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/accounts/sign-in/?next=%2Fme%2F"
    page = app_client.get(response["Location"]).content.decode()
    assert "Your session has expired. Sign in to continue." in page
    assert app_client.get("/me/").status_code == HTTPStatus.FOUND  # signed out


def test_a_disabled_user_is_signed_out_at_refresh(sign_in, new_user, idp, app_client):
    email, password, _ = new_user()
    sign_in(email, password)
    idp.admin_disable_user(UserPoolId=settings.COGNITO_USER_POOL_ID, Username=email)  # in Cognito's console
    expire_soon(app_client)
    # Signed out, and told the account is disabled (the token endpoint says only invalid_grant).
    assert app_client.get("/me/")["Location"] == "/accounts/disabled/"
    assert "Your account is disabled" in app_client.get("/accounts/disabled/").content.decode()
    assert app_client.get("/me/")["Location"].startswith("/accounts/sign-in/")
    assert not get_user_model().objects.get(email=email).is_active  # mirrored


def test_cognito_down_at_refresh_keeps_the_session(sign_in, app_client, caplog):
    sign_in()
    cognito.user_pool().discovery()["token_endpoint"] = (
        "http://127.0.0.1:9/oauth2/token"  # nothing listens there
    )
    expire_soon(app_client)
    with caplog.at_level(logging.WARNING):
        assert app_client.get("/me/").status_code == HTTPStatus.OK
    assert "token refresh postponed" in caplog.text


def test_sign_out_revokes_and_ends_the_hosted_ui_session(sign_in, app_client):
    sign_in()
    refresh_token = app_client.session[services.REFRESH_TOKEN]

    response = app_client.post("/accounts/sign-out/")

    assert response.status_code == HTTPStatus.FOUND
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == cognito.user_pool().endpoint(
        "end_session_endpoint"
    )
    assert parse_qs(location.query) == {
        "client_id": [settings.COGNITO_CLIENT_ID],
        "logout_uri": ["http://localhost:8000/"],
    }
    assert refresh_grant(refresh_token).json()["error"] == "invalid_grant"
    assert services.REFRESH_TOKEN not in app_client.session
    assert app_client.get("/me/").status_code == HTTPStatus.FOUND
    # Cognito's /logout accepts exactly this URL and sends the browser back to the app.
    back = requests.get(response["Location"], allow_redirects=False, timeout=10)
    assert back.status_code == HTTPStatus.FOUND and back.headers["Location"] == "http://localhost:8000/"


def test_sign_out_is_post_only_and_csrf_protected(sign_in):
    from django.test import Client

    client = Client(HTTP_HOST="localhost:8000", enforce_csrf_checks=True)
    sign_in(client=client)
    assert client.get("/accounts/sign-out/").status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert client.post("/accounts/sign-out/").status_code == HTTPStatus.FORBIDDEN
    assert client.get("/me/").status_code == HTTPStatus.OK  # still signed in


def test_error_access_denied_shows_a_friendly_page(app_client):
    state = parse_qs(urlsplit(start_sign_in(app_client)).query)["state"][0]
    response = app_client.get("/oidc/callback/", {"error": "access_denied", "state": state})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert b"cancelled or refused" in response.content and b"Try again" in response.content
    assert state not in app_client.session.get("oidc_states", {})


def test_unknown_state_shows_a_friendly_page(app_client, caplog):
    start_sign_in(app_client)
    with caplog.at_level(logging.WARNING):
        response = app_client.get("/oidc/callback/", {"code": "abc", "state": "forged"})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert b"Try again" in response.content
    assert "sign-in refused" in caplog.text


def test_a_replayed_callback_is_refused(app_client):
    callback = hosted_ui_sign_in(start_sign_in(app_client), "alice@example.com", "Alice-pass-1")
    assert finish_sign_in(app_client, callback).status_code == HTTPStatus.FOUND
    # The same (signed-in) browser: told it is signed in already; the code is not redeemed again.
    with outbound.recording() as calls:
        replay = finish_sign_in(app_client, callback)
    assert replay.status_code == HTTPStatus.FOUND and replay["Location"] == "/me/"
    assert calls == []
    # Another browser, with no sign-in of its own under way: refused.
    elsewhere = finish_sign_in(Client(HTTP_HOST=APP_HOST), callback)
    assert elsewhere.status_code == HTTPStatus.BAD_REQUEST
    assert b"Try again" in elsewhere.content


def test_a_callback_without_a_started_sign_in_is_refused(app_client):
    response = app_client.get("/oidc/callback/", {"code": "abc", "state": "xyz"})
    assert response.status_code == HTTPStatus.BAD_REQUEST


def test_token_endpoint_down_shows_a_friendly_page(app_client, caplog):
    callback = hosted_ui_sign_in(start_sign_in(app_client), "alice@example.com", "Alice-pass-1")
    cognito.user_pool().discovery()["token_endpoint"] = "http://127.0.0.1:9/oauth2/token"
    with caplog.at_level(logging.WARNING):
        response = finish_sign_in(app_client, callback)
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert b"cannot be reached" in response.content and b"Try again" in response.content
    assert "Cognito unavailable" in caplog.text


@pytest.fixture
def silent_server():
    """A TCP server that accepts and never answers: a token endpoint that hangs."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held = []
    stop = threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


def test_token_endpoint_slow_times_out_to_a_friendly_page(app_client, silent_server, settings):
    settings.COGNITO_TIMEOUT = 0.5
    callback = hosted_ui_sign_in(start_sign_in(app_client), "alice@example.com", "Alice-pass-1")
    cognito.user_pool().discovery()["token_endpoint"] = f"{silent_server}/oauth2/token"
    started = time.monotonic()
    response = finish_sign_in(app_client, callback)
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert time.monotonic() - started < 5


def test_jwks_unreachable_shows_a_friendly_page(app_client):
    callback = hosted_ui_sign_in(start_sign_in(app_client), "alice@example.com", "Alice-pass-1")
    cognito.user_pool().discovery()["jwks_uri"] = "http://127.0.0.1:9/jwks.json"  # JWKS cache is cold
    response = finish_sign_in(app_client, callback)
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert b"Try again" in response.content


def test_discovery_unreachable_at_sign_in_start_shows_a_friendly_page(app_client, settings):
    settings.COGNITO_IDP_URL = "http://127.0.0.1:9"
    response = app_client.get("/oidc/authenticate/")
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert b"cannot be reached" in response.content


def test_a_refused_sign_in_leaves_no_foreign_tokens_in_the_session(sign_in, app_client, new_user):
    """Alice is signed in; in her browser someone completes the hosted UI as a locally disabled
    account. The callback is refused, and Alice's session keeps Alice's tokens only."""
    from django.contrib.auth import get_user_model

    email, password, sub = new_user(name="Disabled Here")
    sign_in(email, password)  # the app knows the account...
    get_user_model().objects.filter(cognito_sub=sub).update(is_active=False)  # ...and disables it
    app_client.logout()
    sign_in(client=app_client)  # Alice
    before = {key: app_client.session.get(key) for key in services.TOKEN_KEYS}

    response = finish_sign_in(app_client, hosted_ui_sign_in(start_sign_in(app_client), email, password))

    assert response.status_code == HTTPStatus.FORBIDDEN  # "your account is disabled"
    assert {key: app_client.session.get(key) for key in services.TOKEN_KEYS} == before
    claims = cognito.user_pool().verify_token(app_client.session[services.ID_TOKEN], token_use="id")
    assert claims["email"] == "alice@example.com"
