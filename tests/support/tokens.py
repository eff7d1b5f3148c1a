"""Tokens for the local pool: real ones for alice, and forged ones signed with its key or none."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
import uuid
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings

from project.integrations import cognito


def localcloud_data_dir() -> Path:
    return Path(os.environ.get("LOCALCLOUD_DATA_DIR", settings.BASE_DIR / ".localcloud-test"))


def pool_signing_key() -> tuple[str, str]:
    """(kid, private PEM) of the key the local pool signs with now."""
    data = json.loads((localcloud_data_dir() / "keys.json").read_text())
    keys = data["keys"] if isinstance(data, dict) else data
    current = [k for k in keys if not k.get("retired_at")][-1]
    return current["kid"], current["private_pem"]


def _claims(specific: dict, overrides: dict) -> dict:
    now = int(time.time())
    claims = {
        "sub": str(uuid.uuid4()),
        "iss": settings.COGNITO_ISSUER,
        "auth_time": now,
        "iat": now,
        "exp": now + 3600,
        "jti": str(uuid.uuid4()),
        **specific,
        **overrides,
    }
    return {k: v for k, v in claims.items() if v is not None}  # None removes a claim


def id_claims(**overrides) -> dict:
    """Claims shaped like a Cognito ID token for this client (reference §2)."""
    specific = {
        "aud": settings.COGNITO_CLIENT_ID,
        "token_use": "id",
        "email": "mallory@example.com",
        "email_verified": True,
        "cognito:username": str(uuid.uuid4()),
    }
    return _claims(specific, overrides)


def access_claims(**overrides) -> dict:
    """Claims shaped like a Cognito access token for this client (no aud: client_id)."""
    specific = {
        "client_id": settings.COGNITO_CLIENT_ID,
        "token_use": "access",
        "scope": "aws.cognito.signin.user.admin",
        "username": str(uuid.uuid4()),
    }
    return _claims(specific, overrides)


def sign_with_pool_key(claims: dict, **header) -> str:
    kid, pem = pool_signing_key()
    return jwt.encode(claims, pem, algorithm="RS256", headers={"kid": kid, **header})


def b64url(data: dict | bytes) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def forge_alg_none(claims: dict) -> str:
    """An unsigned token naming the pool's current kid."""
    return f"{b64url({'alg': 'none', 'kid': pool_signing_key()[0], 'typ': 'JWT'})}.{b64url(claims)}."


def forge_hs256_with_public_key(claims: dict) -> str:
    """The classic confusion attack: HMAC-SHA256 keyed with the pool's public key (PEM)."""
    kid, pem = pool_signing_key()
    public_pem = (
        serialization.load_pem_private_key(pem.encode(), password=None)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    signing_input = f"{b64url({'alg': 'HS256', 'kid': kid, 'typ': 'JWT'})}.{b64url(claims)}"
    return f"{signing_input}.{b64url(hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest())}"


def forge_with_own_key(claims: dict, kid: str = "attacker-kid") -> str:
    """Signed with a fresh RSA key the pool never published."""
    return jwt.encode(claims, rsa.generate_private_key(65537, 2048), algorithm="RS256", headers={"kid": kid})


def alice_tokens() -> dict:
    """Real tokens for alice from the pool's API (InitiateAuth, as the access_token command does)."""
    return cognito.user_pool().password_sign_in(username="alice@example.com", password="Alice-pass-1")


def spa_tokens(email: str = "alice@example.com", password: str = "Alice-pass-1") -> dict:
    """Real tokens for the public (SPA) client, as a browser app gets them: hosted UI, PKCE, no secret."""
    import requests

    from tests.support.hosted_ui import submit_hosted_form

    redirect_uri = "http://localhost:5173/"
    verifier = base64.urlsafe_b64encode(os.urandom(40)).rstrip(b"=").decode()
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    params = {
        "response_type": "code", "client_id": settings.COGNITO_SPA_CLIENT_ID, "redirect_uri": redirect_uri,
        "scope": "openid email profile aws.cognito.signin.user.admin", "state": "spa",
        "code_challenge": challenge, "code_challenge_method": "S256",
    }  # fmt: skip
    browser = requests.Session()
    page = browser.get(f"{settings.COGNITO_DOMAIN}/oauth2/authorize", params=params, timeout=10)
    done = submit_hosted_form(browser, page, {"username": email, "password": password})
    code = done.headers["Location"].split("code=", 1)[1].split("&", 1)[0]
    response = requests.post(
        f"{settings.COGNITO_DOMAIN}/oauth2/token",
        data={"grant_type": "authorization_code", "client_id": settings.COGNITO_SPA_CLIENT_ID, "code": code,
              "redirect_uri": redirect_uri, "code_verifier": verifier},
        timeout=10,
    )  # fmt: skip
    response.raise_for_status()
    return response.json()
