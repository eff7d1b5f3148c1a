"""Sign-in through the local stack's hosted UI, over HTTP, with real clients."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import os
import time
import uuid
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.test import Client

from project.integrations import cognito

# The registered callback is http://localhost:8000/oidc/callback/: the test client claims that host.
APP_HOST = "localhost:8000"


@pytest.fixture(autouse=True)
def _fresh_cognito_caches():
    """Each test starts with cold discovery/JWKS caches, so none depends on another's fetches."""
    cognito.user_pool().reset()
    yield
    cognito.user_pool().reset()


@pytest.fixture
def app_client() -> Client:
    return Client(HTTP_HOST=APP_HOST)


class _FormParser(HTMLParser):
    """Collects each form's action, method and inputs (enough to drive the hosted UI)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append(
                {"action": attrs.get("action") or "", "method": attrs.get("method", "get"), "fields": {}}
            )
        elif tag in ("input", "button") and self.forms and attrs.get("name"):
            if tag == "button" and attrs.get("type", "submit") != "submit":
                return
            self.forms[-1]["fields"].setdefault(attrs["name"], attrs.get("value") or "")


def submit_hosted_form(
    browser: requests.Session, page: requests.Response, values: dict[str, str]
) -> requests.Response:
    """Fill the hosted-UI form that has all of `values`' fields and submit it without following."""
    parser = _FormParser()
    parser.feed(page.text)
    for form in parser.forms:
        if all(name in form["fields"] for name in values):
            data = {**form["fields"], **values}
            action = urljoin(page.url, form["action"] or page.url)
            return browser.post(action, data=data, allow_redirects=False, timeout=10)
    raise AssertionError(f"no form with fields {sorted(values)} on {page.url}:\n{page.text[:2000]}")


def hosted_ui_sign_in(
    authorize_url: str, email: str, password: str, browser: requests.Session | None = None
) -> str:
    """Sign in on the hosted UI like a person; return the callback URL Cognito redirects to."""
    browser = browser or requests.Session()
    page = browser.get(authorize_url, timeout=10)
    if page.history and page.history[-1].headers.get("Location", "").startswith("http://localhost"):
        # The hosted-UI session cookie skipped the form: the last hop went to the callback.
        return page.history[-1].headers["Location"]
    assert page.status_code == 200, page.text[:500]
    response = submit_hosted_form(browser, page, {"username": email, "password": password})
    assert response.status_code in (302, 303), response.text[:1000]
    return response.headers["Location"]


def start_sign_in(client: Client, next_url: str | None = None) -> str:
    """Ask the app to start a sign-in; return the hosted-UI URL it redirects to."""
    response = client.get("/oidc/authenticate/", {"next": next_url} if next_url else {})
    assert response.status_code == 302
    return response["Location"]


def finish_sign_in(client: Client, callback_url: str):
    parts = urlsplit(callback_url)
    assert f"{parts.scheme}://{parts.netloc}" == f"http://{APP_HOST}", callback_url
    return client.get(parts.path, parse_qs(parts.query))


@pytest.fixture
def sign_in(app_client):
    """sign_in(email, password) → the app's response to the callback, the whole flow over HTTP."""

    def _sign_in(
        email: str = "alice@example.com", password: str = "Alice-pass-1", client: Client | None = None
    ):
        client = client or app_client
        authorize = start_sign_in(client)
        callback = hosted_ui_sign_in(authorize, email, password)
        return finish_sign_in(client, callback)

    return _sign_in


# --- The local stack's admin API and key (to play an attacker who holds or lacks the key) ----


@pytest.fixture(scope="session")
def idp():
    import boto3

    return boto3.client(
        "cognito-idp",
        region_name=settings.COGNITO_REGION,
        endpoint_url=settings.AWS_ENDPOINT_URL,
        # The local stack's operator keys (app.env); admin calls are refused unsigned or misigned.
        aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"],
    )


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


@pytest.fixture
def new_user(idp):
    """make(groups=[...]) → (email, password, sub) of a fresh confirmed user in the local pool."""
    made = []

    def make(groups: tuple[str, ...] = (), name: str = "Test Person") -> tuple[str, str, str]:
        email = f"user-{uuid.uuid4().hex[:10]}@example.com"
        password = "Test-pass-1"
        idp.admin_create_user(
            UserPoolId=settings.COGNITO_USER_POOL_ID,
            Username=email,
            UserAttributes=[
                {"Name": "email", "Value": email},
                {"Name": "email_verified", "Value": "true"},
                {"Name": "name", "Value": name},
            ],
            MessageAction="SUPPRESS",
        )
        idp.admin_set_user_password(
            UserPoolId=settings.COGNITO_USER_POOL_ID, Username=email, Password=password, Permanent=True
        )
        for group in groups:
            idp.admin_add_user_to_group(
                UserPoolId=settings.COGNITO_USER_POOL_ID, Username=email, GroupName=group
            )
        user = idp.admin_get_user(UserPoolId=settings.COGNITO_USER_POOL_ID, Username=email)
        sub = next(a["Value"] for a in user["UserAttributes"] if a["Name"] == "sub")
        made.append(email)
        return email, password, sub

    yield make
    for email in made:
        # Best effort: a test may have deleted the user; the test stack is wiped per run anyway.
        with contextlib.suppress(Exception):
            idp.admin_delete_user(UserPoolId=settings.COGNITO_USER_POOL_ID, Username=email)
