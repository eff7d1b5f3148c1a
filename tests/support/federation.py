"""Federated sign-in through localcloud's fake providers, and a misbehaving provider of our own."""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import jwt
import requests
from botocore import UNSIGNED
from botocore.config import Config
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.support.localcloud import Stack, authorize_params, callback_query, exchange, form_of

SLUGS = {"Google": "google", "Facebook": "facebook", "SignInWithApple": "apple", "ExampleOIDC": "oidc"}


def new_email(prefix: str = "fed") -> str:
    """A fresh address nobody has used."""
    return f"{prefix}-{secrets.token_hex(5)}@example.com"


def to_provider(stack: Stack, provider: str, session: requests.Session | None = None, **extra: str):
    """authorize?identity_provider=… → (browser, 302 to the provider, the app's authorize params)."""
    session = session or requests.Session()
    params = authorize_params(stack, **{"identity_provider": provider, **extra})
    response = session.get(f"{stack.base}/oauth2/authorize", params=params, allow_redirects=False, timeout=5)
    return session, response, params


def consent(
    stack: Stack, session: requests.Session, provider_url: str, *, action: str = "continue", **fields: str
) -> requests.Response:
    """On the fake provider's page: pick/type an identity and Continue (or Cancel); its 302."""
    page = session.get(provider_url, timeout=5)
    assert page.status_code == 200, page.text
    form_action, hidden = form_of(page.text)
    data = {**hidden, "identity": "custom", "action": action, **fields}
    return session.post(stack.base + form_action, data=data, allow_redirects=False, timeout=5)


def federated_code(
    stack: Stack,
    provider: str,
    *,
    email: str,
    name: str = "Fed Person",
    verified: bool = True,
    account_id: str = "",
    **extra: str,
) -> tuple[dict[str, str], dict[str, str]]:
    """A whole round trip as a typed identity: (callback query, authorize params)."""
    session, response, params = to_provider(stack, provider, **extra)
    assert response.status_code == 302, response.text
    fields = {
        "name": name,
        "email": email,
        "sub": account_id,
        **({"email_verified": "true"} if verified else {}),
    }
    back = consent(stack, session, response.headers["Location"], **fields)
    assert back.status_code == 302 and "/oauth2/idpresponse?" in back.headers["Location"], back.text
    final = session.get(back.headers["Location"], allow_redirects=False, timeout=10)
    assert final.status_code == 302, final.text
    return callback_query(final), params


def federated_tokens(stack: Stack, provider: str, **kwargs: Any) -> dict[str, Any]:
    """Tokens of a federated sign-in (the app's code redeemed at /oauth2/token)."""
    query, _ = federated_code(stack, provider, **kwargs)
    assert "code" in query, query
    response = exchange(stack, query["code"])
    assert response.status_code == 200, response.text
    return response.json()


def fake_provider_id(stack: Stack, provider: str, email: str) -> str:
    """The id a fake provider gives a typed e-mail, without signing in at Cognito (its own code
    redeemed at its token endpoint, its ID token checked against its JWKS)."""
    slug = SLUGS[provider]
    session, response, _ = to_provider(stack, provider)
    client_id = parse_qs(urlsplit(response.headers["Location"]).query)["client_id"][0]
    back = consent(stack, session, response.headers["Location"], email=email)
    code = callback_query(back)["code"]
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": f"{stack.base}/oauth2/idpresponse",
    }
    secret = json.loads((stack.data_dir / "idp.json").read_text())["client_secrets"][slug]
    base = f"{stack.base}/_idp/{slug}"
    token = requests.post(f"{base}/token", data=form, auth=(client_id, secret), timeout=5).json()["id_token"]
    jwks = requests.get(f"{base}/jwks.json", timeout=5).json()
    key = jwt.PyJWK(jwks["keys"][0]).key
    return str(jwt.decode(token, key, algorithms=["RS256"], audience=client_id)["sub"])


def unsigned_idp(stack: Stack) -> Any:
    """A cognito-idp client that signs nothing (as a browser or an attacker would call)."""
    return boto3.client("cognito-idp", region_name="us-east-1", endpoint_url=stack.base,
                        config=Config(signature_version=UNSIGNED))  # fmt: skip


# --- a provider of the test's own, which can forge or stall -------------------------------------
@dataclass
class RogueProvider:
    """A real OIDC provider on a free port whose token endpoint answers as `mode` says."""

    issuer: str = "https://rogue.example"
    client_id: str = "rogue-client"
    mode: str = "ok"
    key: Any = field(default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048))
    other_key: Any = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    nonces: dict[str, str] = field(default_factory=dict)  # code → nonce to put in the token
    port: int = 0
    release: threading.Event = field(default_factory=threading.Event)

    def id_token(self, code: str) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": self.client_id,
            "sub": f"rogue-{code}",
            "iat": now,
            "exp": now + 600,
            "email": f"{code}@rogue.example",
            "email_verified": True,
            "nonce": self.nonces.get(code, ""),
        }
        key = self.key
        if self.mode == "wrong_iss":
            claims["iss"] = "https://accounts.google.com"
        elif self.mode == "wrong_aud":
            claims["aud"] = "someone-else"
        elif self.mode == "expired":
            claims["exp"], claims["iat"] = now - 60, now - 700
        elif self.mode == "bad_signature":
            key = self.other_key
        elif self.mode == "wrong_nonce":
            claims["nonce"] = "not-the-nonce"
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "rogue-1"})

    def jwks(self) -> dict[str, Any]:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**jwk, "kid": "rogue-1", "alg": "RS256", "use": "sig"}]}

    def details(self) -> dict[str, str]:
        base = f"http://127.0.0.1:{self.port}"
        return {
            "client_id": self.client_id,
            "client_secret": "rogue-secret",
            "authorize_scopes": "openid email",
            "oidc_issuer": self.issuer,
            "authorize_url": f"{base}/authorize",
            "token_url": f"{base}/token",
            "jwks_uri": f"{base}/jwks",
            "attributes_url": f"{base}/userinfo",
            "attributes_request_method": "GET",
        }


@contextmanager
def rogue_provider() -> Iterator[RogueProvider]:
    """Serve a RogueProvider until the block ends (a stalled request is released first)."""
    rogue = RogueProvider()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _json(self, body: dict[str, Any], status: int = 200) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            if self.path.startswith("/jwks"):
                self._json(rogue.jwks())
            elif self.path.startswith("/userinfo"):
                code = self.headers.get("Authorization", "").removeprefix("Bearer at-")
                self._json({"sub": f"rogue-{code}", "email": f"{code}@rogue.example", "email_verified": True})
            else:
                self._json({"error": "not_found"}, 404)

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            if rogue.mode == "hang":
                rogue.release.wait(30)  # a provider that never answers (until the test ends)
                return
            if rogue.mode == "error":
                self._json({"error": "invalid_grant", "error_description": "Bad code"}, 400)
                return
            code = form.get("code", "")
            self._json(
                {"access_token": f"at-{code}", "token_type": "Bearer", "id_token": rogue.id_token(code)}
            )

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    rogue.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield rogue
    finally:
        rogue.release.set()
        server.shutdown()
        server.server_close()


def rogue_round_trip(stack: Stack, rogue: RogueProvider, provider: str, code: str) -> requests.Response:
    """Start at localcloud, then come back to /oauth2/idpresponse as the rogue provider would."""
    session, response, params = to_provider(stack, provider)
    assert response.status_code == 302, response.text
    query = {k: v[0] for k, v in parse_qs(urlsplit(response.headers["Location"]).query).items()}
    assert response.headers["Location"].startswith(f"http://127.0.0.1:{rogue.port}/authorize?")
    rogue.nonces[code] = query["nonce"]
    url = f"{stack.base}/oauth2/idpresponse"
    back = session.get(url, params={"code": code, "state": query["state"]}, allow_redirects=False, timeout=15)
    back.app_state = params["state"]  # type: ignore[attr-defined]
    return back
