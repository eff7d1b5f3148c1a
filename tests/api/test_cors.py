"""CORS on /api/ for the configured origins only (API_CORS_ORIGINS), and tokens from both app clients."""

from __future__ import annotations

import json

import pytest
from django.test import override_settings

from tests.support.tokens import access_claims, sign_with_pool_key, spa_tokens

pytestmark = pytest.mark.django_db
SPA = "http://localhost:5174"


@pytest.fixture(autouse=True)
def _spa_origin(settings) -> None:
    settings.CORS_ALLOWED_ORIGINS = [SPA]


def preflight(client, path: str, origin: str, method: str = "PATCH"):
    return client.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "authorization, content-type, if-match",
        },
    )


def test_an_allowed_origin_reads_the_api(api, alice_token):
    response = api("GET", "/api/user/me", alice_token, headers={"Origin": SPA})
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == SPA
    assert "ETag" in response["Access-Control-Expose-Headers"]
    assert "Access-Control-Allow-Credentials" not in response
    assert "origin" in response["Vary"].lower()


def test_the_preflight_allows_patch_with_the_apis_headers(client):
    response = preflight(client, "/api/user/me", SPA)
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == SPA
    assert "PATCH" in response["Access-Control-Allow-Methods"]
    allowed = response["Access-Control-Allow-Headers"].lower()
    assert {"authorization", "content-type", "if-match"} <= {h.strip() for h in allowed.split(",")}


def test_an_origin_not_on_the_list_is_refused(api, client, alice_token):
    for origin in ("http://evil.example", "http://localhost:5175", "null", SPA + ".evil.example"):
        response = api("GET", "/api/user/me", alice_token, headers={"Origin": origin})
        assert "Access-Control-Allow-Origin" not in response, origin
        flight = preflight(client, "/api/user/me", origin)
        assert "Access-Control-Allow-Origin" not in flight, origin
        assert "Access-Control-Allow-Methods" not in flight, origin


def test_no_cors_outside_the_api(client):
    for path in ("/", "/accounts/sign-in/", "/people/", "/api-not/"):
        response = client.get(path, headers={"Origin": SPA})
        assert "Access-Control-Allow-Origin" not in response, path
        flight = preflight(client, path, SPA, method="POST")
        assert "Access-Control-Allow-Origin" not in flight, path


def test_tokens_from_the_spa_client_are_accepted_and_can_edit(api):
    token = spa_tokens()["access_token"]
    me = api("GET", "/api/user/me", token, headers={"Origin": SPA})
    assert me.status_code == 200, me.content
    assert me.json()["email"] == "alice@example.com"
    patched = api(
        "PATCH", "/api/user/me", token, data=json.dumps({"bio": "From the SPA"}),
        content_type="application/json", headers={"Origin": SPA, "If-Match": me["ETag"]},
    )  # fmt: skip
    assert patched.status_code == 200, patched.content
    assert patched.json()["profile"]["bio"] == "From the SPA"
    assert patched["Access-Control-Allow-Origin"] == SPA


def test_both_clients_by_default_and_only_the_listed_ones(api, settings, alice_token):
    assert settings.API_CLIENT_IDS == [settings.COGNITO_CLIENT_ID, settings.COGNITO_SPA_CLIENT_ID]
    spa = spa_tokens()["access_token"]
    assert api("GET", "/api/user/me", alice_token).status_code == 200
    assert api("GET", "/api/user/me", spa).status_code == 200
    # A token of a client not on the list, signed with the pool's real key, is refused.
    other = sign_with_pool_key(access_claims(client_id="someotherclient0000000000"))
    assert api("GET", "/api/user/me", other).status_code == 401
    # The single-client setting as before: the SPA's tokens are then refused.
    with override_settings(API_CLIENT_IDS=[settings.COGNITO_CLIENT_ID]):
        assert api("GET", "/api/user/me", alice_token).status_code == 200
        response = api("GET", "/api/user/me", spa)
        assert response.status_code == 401
        assert 'error="invalid_token"' in response["WWW-Authenticate"]
