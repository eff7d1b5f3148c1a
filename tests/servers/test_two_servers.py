"""Many app servers: two gunicorn servers on two ports, one Postgres database, one localcloud.

What one server does, the other sees at once (sessions, profiles and the shared cache live in
Postgres); what each keeps in its own memory (keys, verified tokens, guest credentials, URLs)
never outlives the authorisation it stands for by more than the stated bound.
"""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
import requests

from tests.servers.conftest import CONFIRM_TTL
from tests.support import images
from tests.support.servers import PROXY_HEADERS, Browser, make_stack_user
from tests.support.waiting import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def api_me(base: str, token: str) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}", **PROXY_HEADERS}
    return requests.get(f"{base}/api/user/me", headers=headers, timeout=15)


def test_sign_in_on_one_continue_on_the_other(cluster):
    one, two = cluster.servers
    email, password = make_stack_user(cluster.stack, "Roaming Person")
    browser = Browser()
    response = browser.sign_in(one.base, email, password)
    assert response.status_code == 302 and response.headers["Location"] == "/me/"
    page = browser.get(two.base, "/me/")
    assert page.status_code == 200
    assert "Roaming Person" in page.text


def test_sign_out_on_one_ends_it_on_both(cluster):
    one, two = cluster.servers
    email, password = make_stack_user(cluster.stack)
    browser = Browser()
    browser.sign_in(one.base, email, password)
    assert browser.get(two.base, "/me/").status_code == 200
    response = browser.sign_out(two.base)
    assert response.status_code == 302
    for server in (one, two):
        page = browser.get(server.base, "/me/")
        assert page.status_code == 302 and "/accounts/sign-in/" in page.headers["Location"]


def test_a_profile_edit_on_one_is_seen_on_the_other(cluster):
    one, two = cluster.servers
    email, password = make_stack_user(cluster.stack, "Before Edit")
    browser = Browser()
    browser.sign_in(one.base, email, password)
    assert browser.get(two.base, "/me/").status_code == 200  # server two has seen the old profile
    response = browser.edit_profile(one.base, display_name="After Edit", bio="Written on one")
    assert response.status_code == 302, response.text[:2000]
    page = browser.get(two.base, "/me/").text
    assert "After Edit" in page and "Written on one" in page
    # And the other way round, with the version the first edit bumped (no "changed meanwhile").
    assert browser.edit_profile(two.base, bio="Written on two").status_code == 302
    assert "Written on two" in browser.get(one.base, "/me/").text


def test_a_jwks_rotation_is_followed_by_both(cluster):
    email, password = make_stack_user(cluster.stack)
    for server in cluster.servers:  # both have the current key in their process
        assert Browser().sign_in(server.base, email, password).status_code == 302
    subprocess.run(
        [sys.executable, "-m", "localcloud", "rotate-key", "--data-dir", str(cluster.stack.data_dir)],
        check=True, capture_output=True, timeout=30,
    )  # fmt: skip
    # ID tokens (sign-in) and access tokens (API) signed with the new key, on each server.
    for server in cluster.servers:
        response = Browser().sign_in(server.base, email, password)
        assert response.status_code == 302 and response.headers["Location"] == "/me/", response.text[:500]
        token = cluster.stack.api_login(email, password)["AccessToken"]
        assert api_me(server.base, token).status_code == 200


def test_a_disabled_users_access_token_stops_working_within_the_bound_on_every_server(cluster):
    email, password = make_stack_user(cluster.stack)
    token = cluster.stack.api_login(email, password)["AccessToken"]
    for server in cluster.servers:  # verified, memoised and confirmed in every process
        assert api_me(server.base, token).status_code == 200
    cluster.stack.idp().admin_disable_user(UserPoolId=cluster.stack.pool_id, Username=email)
    disabled_at = time.monotonic()
    for server in cluster.servers:
        wait_until(lambda s=server: api_me(s.base, token).status_code == 401, timeout=CONFIRM_TTL + 5)
    assert time.monotonic() - disabled_at <= CONFIRM_TTL + 1.5
    for server in cluster.servers:
        refused = api_me(server.base, token)
        assert refused.status_code == 401
        assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]


def test_an_avatar_changed_on_one_is_never_served_stale_by_the_other(cluster):
    """Presigned URLs are cached per process by object key; a new picture is a new key, the old
    objects are deleted, so no server hands out a URL of a picture that is gone."""
    one, two = cluster.servers
    email, password = make_stack_user(cluster.stack)
    browser = Browser()
    browser.sign_in(one.base, email, password)
    token = cluster.stack.api_login(email, password)["AccessToken"]
    assert browser.upload_avatar(one.base, images.jpeg()).status_code == 302
    first = api_me(two.base, token).json()["profile"]["avatar"]
    assert first and requests.get(first, timeout=15).status_code == 200
    assert api_me(two.base, token).json()["profile"]["avatar"] == first  # cached in server two
    assert browser.upload_avatar(one.base, images.jpeg()).status_code == 302
    second = api_me(two.base, token).json()["profile"]["avatar"]
    assert second != first
    assert requests.get(second, timeout=15).status_code == 200
    assert requests.get(first, timeout=15).status_code in (403, 404)  # the old objects are gone
