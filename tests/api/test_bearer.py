"""The API's Bearer checks, each tried with a forged or wrong access token (RFC 6750 answers)."""

from __future__ import annotations

import base64
import hashlib
import subprocess
import sys
import time
from urllib.parse import urlencode

import jwt
import pytest
import requests
from django.conf import settings
from django.contrib.auth import get_user_model

from profiles.models import Profile
from project.integrations import cognito, outbound, s3
from project.integrations.identity_pool import identity_pool
from tests.support.hosted_ui import hosted_ui_sign_in
from tests.support.tokens import (
    access_claims,
    alice_tokens,
    b64url,
    forge_alg_none,
    forge_hs256_with_public_key,
    forge_with_own_key,
    localcloud_data_dir,
    pool_signing_key,
    sign_with_pool_key,
)

pytestmark = pytest.mark.django_db
IDENTITY = "us-east-1:00000000-0000-0000-0000-000000000001"


def assert_invalid_token(response) -> None:
    assert response.status_code == 401, response.content
    assert response["WWW-Authenticate"].startswith('Bearer realm="api", error="invalid_token"')
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["error"] == "invalid_token"
    assert not response.cookies


def test_a_valid_token_works_and_sets_no_cookie(api, alice_token):
    response = api("GET", "/api/user/me", alice_token)
    assert response.status_code == 200
    body = response.json()
    assert body["email"] == "alice@example.com"
    assert body["profile"]["display_name"] == "Alice Example"
    assert body["profile"]["college"] == "Example College"
    assert not response.cookies
    assert response["Cache-Control"] == "no-store"


def test_no_token_gets_a_challenge_without_error_code(api):
    response = api("GET", "/api/user/me")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert response.json()["status"] == 401


def test_a_browser_session_is_not_api_credentials(api, sign_in, app_client):
    sign_in(client=app_client)
    response = app_client.get("/api/user/me")
    assert response.status_code == 401
    assert not response.cookies


def test_alg_none_is_refused(api):
    assert_invalid_token(api("GET", "/api/user/me", forge_alg_none(access_claims())))


def test_hs256_signed_with_the_public_key_is_refused(api):
    assert_invalid_token(api("GET", "/api/user/me", forge_hs256_with_public_key(access_claims())))


def test_unknown_kid_is_refused(api):
    assert_invalid_token(api("GET", "/api/user/me", forge_with_own_key(access_claims())))


def test_a_tampered_payload_is_refused(api, alice_token):
    header, _, signature = alice_token.split(".")
    claims = jwt.decode(alice_token, options={"verify_signature": False})
    claims["cognito:groups"] = ["admin"]
    assert_invalid_token(api("GET", "/api/users/", f"{header}.{b64url(claims)}.{signature}"))


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}, id="expired"),
        pytest.param({"iat": int(time.time()) + 3600, "exp": int(time.time()) + 7200}, id="not-yet-valid"),
        pytest.param({"nbf": int(time.time()) + 3600}, id="nbf-future"),
        pytest.param({"iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other"}, id="wrong-iss"),
        pytest.param({"client_id": "another-client"}, id="another-client"),
        pytest.param({"token_use": "id"}, id="token-use-id"),
        pytest.param({"client_id": None, "aud": settings.COGNITO_CLIENT_ID}, id="aud-instead-of-client-id"),
    ],
)
def test_wrong_claims_are_refused(api, overrides):
    assert_invalid_token(api("GET", "/api/user/me", sign_with_pool_key(access_claims(**overrides))))


def test_an_id_token_is_refused(api):
    assert_invalid_token(api("GET", "/api/user/me", alice_tokens()["IdToken"]))


def test_a_token_without_the_scope_is_403_insufficient_scope(api):
    """A hosted-UI token granted only `openid` (a real token from the local pool)."""
    verifier = "v" * 50
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    authorize = (
        cognito.user_pool().endpoint("authorization_endpoint")
        + "?"
        + urlencode(
            {
                "response_type": "code",
                "client_id": settings.COGNITO_CLIENT_ID,
                "redirect_uri": "http://localhost:8000/oidc/callback/",
                "scope": "openid",
                "state": "s",
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
        )
    )
    callback = hosted_ui_sign_in(authorize, "alice@example.com", "Alice-pass-1")
    code = callback.split("code=")[1].split("&")[0]
    tokens = requests.post(
        cognito.user_pool().endpoint("token_endpoint"),
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": "http://localhost:8000/oidc/callback/",
            "code_verifier": verifier,
        },
        auth=(settings.COGNITO_CLIENT_ID, settings.COGNITO_CLIENT_SECRET),
        timeout=10,
    ).json()
    response = api("GET", "/api/user/me", tokens["access_token"])
    assert response.status_code == 403
    assert response["WWW-Authenticate"] == (
        'Bearer realm="api", error="insufficient_scope", '
        'error_description="The access token lacks the aws.cognito.signin.user.admin scope.", '
        'scope="aws.cognito.signin.user.admin"'
    )


@pytest.mark.parametrize(
    "header",
    [
        "Basic YWxpY2U6cGFzcw==",
        "bearer",
        "Bearer",
        "Bearer ",
        "Bearer a b",
        "Bearer " + "a" * 10_240,
        "Bearer ñandú.ñandú.ñandú",
        "Bearer \u202etoken",
        "Bearer a.b.c",
        "Bearer e30.e30.e30",
    ],
)
def test_malformed_headers_get_401_never_500(client, header):
    response = client.get("/api/user/me", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith('Bearer realm="api"')


def test_key_rotation_is_followed(api):
    subprocess.run(
        [sys.executable, "-m", "localcloud", "rotate-key", "--data-dir", str(localcloud_data_dir())],
        check=True,
        capture_output=True,
        timeout=30,
    )
    token = cognito.user_pool().password_sign_in(username="alice@example.com", password="Alice-pass-1")[
        "AccessToken"
    ]
    assert jwt.get_unverified_header(token)["kid"] == pool_signing_key()[0]
    assert api("GET", "/api/user/me", token).status_code == 200


def test_no_outbound_call_per_request_with_a_warm_cache(api, alice_token):
    """Warm: no call to Cognito (requests), nor to the identity pool or S3 (botocore), per request."""
    identity_pool().reset()  # a cold guest identity, so warming it shows botocore calls are seen
    s3.bucket().reset()
    with outbound.recording() as cold:
        assert api("GET", "/api/user/me", alice_token).status_code == 200
    # Discovery and JWKS (requests), GetUser for the unseen user (botocore).
    assert [c.operation or c.url for c in cold] == [
        cognito.discovery_url(),
        cognito.user_pool().endpoint("jwks_uri"),
        "AWSCognitoIdentityProviderService.GetUser",
    ]
    Profile.objects.filter(user__email="alice@example.com").update(
        avatar_key=f"protected/{IDENTITY}/avatars/bench"
    )
    with outbound.recording() as warming:
        assert api("GET", "/api/user/me", alice_token).json()["profile"]["avatar"]
    assert [c.operation for c in warming] == [  # the API's guest identity; presigning is local
        "AWSCognitoIdentityService.GetId",
        "AWSCognitoIdentityService.GetCredentialsForIdentity",
    ]
    with outbound.recording() as calls:
        for _ in range(5):
            assert api("GET", "/api/user/me", alice_token).status_code == 200
    assert calls == []


def test_a_signed_out_users_token_stays_valid_unless_confirmation_is_on(api, settings):
    tokens = cognito.user_pool().password_sign_in(username="alice@example.com", password="Alice-pass-1")
    token = tokens["AccessToken"]
    assert api("GET", "/api/user/me", token).status_code == 200
    import boto3

    boto3.client(
        "cognito-idp", region_name=settings.COGNITO_REGION, endpoint_url=settings.AWS_ENDPOINT_URL
    ).global_sign_out(AccessToken=token)
    # Cognito's semantics: the JWT stays cryptographically valid until it expires.
    assert api("GET", "/api/user/me", token).status_code == 200
    settings.API_CONFIRM_TOKENS = True
    assert_invalid_token(api("GET", "/api/user/me", token))
    fresh = cognito.user_pool().password_sign_in(username="alice@example.com", password="Alice-pass-1")[
        "AccessToken"
    ]
    assert api("GET", "/api/user/me", fresh).status_code == 200


def test_a_token_cognito_refuses_is_401_for_a_user_never_seen(api, new_user, idp, faults):
    """First sight of a user asks Cognito (GetUser): its refusal is the client's 401, an outage a 503.

    RFC 6750 §3.1: the SPA refreshes on 401 only; a 503 for a revoked token would leave it stuck.
    """
    revoked, deleted, outage = new_user(), new_user(), new_user()

    def token_of(person) -> str:
        return cognito.user_pool().password_sign_in(username=person.email, password=person.password)[
            "AccessToken"
        ]

    revoked_token, deleted_token, outage_token = token_of(revoked), token_of(deleted), token_of(outage)
    idp.global_sign_out(AccessToken=revoked_token)
    idp.admin_delete_user(UserPoolId=settings.COGNITO_USER_POOL_ID, Username=deleted.email)
    for token in (revoked_token, deleted_token):
        response = api("GET", "/api/user/me", token)
        assert_invalid_token(response)
        assert response.json()["detail"] == "The access token was revoked."
    assert not get_user_model().objects.filter(email__in=(revoked.email, deleted.email)).exists()

    # Cognito failing (not refusing) is the only 503 (faults: the local stack cannot fail by itself).
    faults.put("GetUser", ErrorType="InternalErrorException", Status=500, Count=0)
    response = api("GET", "/api/user/me", outage_token)
    assert response.status_code == 503, response.content
    assert response.json()["detail"] == "The sign-in service cannot be reached. Try again shortly."
    faults.clear()
    assert api("GET", "/api/user/me", outage_token).status_code == 200
