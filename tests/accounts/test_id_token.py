"""The ID token checks AWS prescribes, each tried with a forged or wrong token (reference §2)."""

from __future__ import annotations

import subprocess
import sys

import jwt
import pytest
from django.core.exceptions import SuspiciousOperation

from accounts.auth import CognitoAuthenticationBackend
from project.integrations import cognito
from tests.support.tokens import (
    alice_tokens,
    b64url,
    forge_alg_none,
    forge_hs256_with_public_key,
    forge_with_own_key,
    id_claims,
    localcloud_data_dir,
    pool_signing_key,
    sign_with_pool_key,
)

pytestmark = pytest.mark.django_db


def verify(token: str, nonce: str = "n-1"):
    return CognitoAuthenticationBackend().verify_token(token, nonce=nonce)


def test_a_well_formed_token_passes():
    """The control: the checks below fail for their own reason, not for all tokens."""
    claims = verify(sign_with_pool_key(id_claims(nonce="n-1")))
    assert claims["email"] == "mallory@example.com"


def test_real_pool_tokens_pass():
    """An ID token from the pool itself (InitiateAuth) verifies; it carries no nonce."""
    claims = cognito.user_pool().verify_token(alice_tokens()["IdToken"], token_use="id")
    assert claims["email"] == "alice@example.com"


def test_bad_signature_is_refused():
    header, _, signature = sign_with_pool_key(id_claims(nonce="n-1")).split(".")
    tampered = b64url(id_claims(nonce="n-1", email="admin@example.com"))
    with pytest.raises(SuspiciousOperation):
        verify(f"{header}.{tampered}.{signature}")


def test_alg_none_is_refused():
    with pytest.raises(SuspiciousOperation):
        verify(forge_alg_none(id_claims(nonce="n-1")))


def test_hs256_signed_with_the_public_key_is_refused():
    with pytest.raises(SuspiciousOperation):
        verify(forge_hs256_with_public_key(id_claims(nonce="n-1")))


def test_unknown_kid_is_refused():
    with pytest.raises(SuspiciousOperation):
        verify(forge_with_own_key(id_claims(nonce="n-1")))


def test_own_key_under_the_pools_kid_is_refused():
    with pytest.raises(SuspiciousOperation):
        verify(forge_with_own_key(id_claims(nonce="n-1"), kid=pool_signing_key()[0]))


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"exp": 1_000_000_000, "iat": 999_996_400}, id="expired"),
        pytest.param({"aud": "another-client"}, id="wrong-aud"),
        pytest.param({"iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_OTHER"}, id="wrong-iss"),
        pytest.param({"iss": "http://127.0.0.1:9229/whatever"}, id="local-iss"),
        pytest.param({"token_use": "access"}, id="token-use-access"),
        pytest.param({"nonce": "another-nonce"}, id="nonce-mismatch"),
        pytest.param({"nonce": None}, id="nonce-missing"),
        pytest.param({"exp": None}, id="no-exp"),
    ],
)
def test_wrong_claims_are_refused(overrides):
    with pytest.raises(SuspiciousOperation):
        verify(sign_with_pool_key(id_claims(**{"nonce": "n-1", **overrides})))


def test_an_access_token_in_place_of_the_id_token_is_refused():
    with pytest.raises(SuspiciousOperation):
        verify(alice_tokens()["AccessToken"], nonce="")


@pytest.mark.parametrize("garbage", ["", "a.b", "a.b.c", "x" * 20000, "é.é.é"])
def test_garbage_is_refused(garbage):
    with pytest.raises(SuspiciousOperation):
        verify(garbage)


def test_an_unknown_kid_refetches_the_jwks_at_most_once_a_minute():
    fetches = []
    hook = lambda r, *a, **k: fetches.append(r.url) if r.url.endswith("/jwks.json") else None  # noqa: E731
    cognito.user_pool().http.hooks["response"].append(hook)
    try:
        verify(sign_with_pool_key(id_claims(nonce="n-1")))  # first use: one fetch
        for _ in range(3):
            with pytest.raises(SuspiciousOperation):
                verify(forge_with_own_key(id_claims(nonce="n-1"), kid="k2"))
    finally:
        cognito.user_pool().http.hooks["response"].remove(hook)
    assert len(fetches) == 2  # the cold fetch, then one refetch for the unknown kid


def test_key_rotation_is_followed(sign_in):
    sign_in()  # JWKS cached with the current key
    old_kid, _ = pool_signing_key()
    old_token = alice_tokens()["IdToken"]
    subprocess.run(
        [sys.executable, "-m", "localcloud", "rotate-key", "--data-dir", str(localcloud_data_dir())],
        check=True,
        capture_output=True,
        timeout=30,
    )
    new_kid, _ = pool_signing_key()
    assert new_kid != old_kid
    response = sign_in()  # the new ID token's kid is unknown to the cache: one refetch
    assert response.status_code == 302 and response["Location"] == "/me/"
    assert cognito.user_pool().signing_key(new_kid)  # known now, without another fetch
    # Tokens signed before the rotation still verify while they live.
    assert jwt.get_unverified_header(old_token)["kid"] == old_kid
    assert cognito.user_pool().verify_token(old_token, token_use="id")["email"] == "alice@example.com"
