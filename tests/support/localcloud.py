"""localcloud as a process: start it on free ports, drive its hosted UI and APIs, play S3 principals."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import jwt
import pyotp
import pytest
import requests
from botocore import UNSIGNED
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG = ROOT / "localcloud" / "config.json"
CALLBACK = "http://localhost:8000/oidc/callback/"
CALLBACK_2 = "http://localhost:8001/oidc/callback/"
LOGOUT = "http://localhost:8000/"
ALICE = ("alice@example.com", "Alice-pass-1")
ADMIN = ("admin@example.com", "Admin-pass-1")


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_config(path: Path, **changes: Any) -> Path:
    """The default config with extra callback/logout URLs and optional overrides."""
    config = json.loads(DEFAULT_CONFIG.read_text())
    config["app_client"]["CallbackURLs"].append(CALLBACK_2)
    config["app_client"]["LogoutURLs"].append("http://localhost:8001/")
    for section, values in changes.items():
        if isinstance(values, dict):
            config.setdefault(section, {}).update(values)
        else:
            config[section] = values
    path.write_text(json.dumps(config))
    return path


@dataclass
class Stack:
    """One running localcloud process and clients for it."""

    process: subprocess.Popen
    data_dir: Path
    config: Path
    port: int
    output: list[str] = field(default_factory=list)

    @property
    def base(self) -> str:
        """The stack's base URL."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def s3_base(self) -> str:
        """The S3 origin's base URL (its own port, as S3 is its own origin on AWS)."""
        return self.env["AWS_S3_ENDPOINT_URL"]

    @property
    def env(self) -> dict[str, str]:
        """The app.env values."""
        lines = (self.data_dir / "app.env").read_text().splitlines()
        return dict(line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))

    @property
    def pool_id(self) -> str:
        """The user pool id."""
        return self.env["COGNITO_USER_POOL_ID"]

    @property
    def client_id(self) -> str:
        """The web client's id."""
        return self.env["COGNITO_CLIENT_ID"]

    @property
    def spa_client_id(self) -> str:
        """The public (single-page app) client's id: no secret, PKCE required."""
        return self.env["COGNITO_SPA_CLIENT_ID"]

    @property
    def client_secret(self) -> str:
        """The web client's secret."""
        return self.env["COGNITO_CLIENT_SECRET"]

    @property
    def issuer(self) -> str:
        """The AWS-style issuer."""
        return self.env["COGNITO_ISSUER"]

    def idp(self, *, validate: bool = True) -> Any:
        """A boto3 cognito-idp client pointed at the stack, signing with the operator's keys.

        validate=False turns off boto3's own parameter checks, so the server's are what answer.
        """
        return boto3.client(
            "cognito-idp",
            region_name="us-east-1",
            endpoint_url=self.base,
            aws_access_key_id=self.env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=self.env["AWS_SECRET_ACCESS_KEY"],
            config=Config(parameter_validation=validate),
        )

    def secret_hash(self, username: str) -> str:
        """SECRET_HASH for the web client."""
        digest = hmac.new(self.client_secret.encode(), (username + self.client_id).encode(), hashlib.sha256)
        return base64.b64encode(digest.digest()).decode()

    def api_login(self, username: str, password: str) -> dict[str, Any]:
        """Tokens from InitiateAuth USER_PASSWORD_AUTH."""
        result = self.idp().initiate_auth(
            ClientId=self.client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={
                "USERNAME": username,
                "PASSWORD": password,
                "SECRET_HASH": self.secret_hash(username),
            },
        )
        return result["AuthenticationResult"]

    def jwks(self) -> dict[str, Any]:
        """The pool's JWKS."""
        return requests.get(f"{self.base}/{self.pool_id}/.well-known/jwks.json", timeout=5).json()

    def verify(self, token: str, token_use: str, client_id: str | None = None) -> dict[str, Any]:
        """Verify a token the way AWS prescribes (kid from JWKS, RS256, exp, iss, aud/client_id, use)."""
        client_id = client_id or self.client_id
        header = jwt.get_unverified_header(token)
        assert header["alg"] == "RS256"
        keys = {k["kid"]: k for k in self.jwks()["keys"]}
        key = jwt.PyJWK(keys[header["kid"]]).key
        claims = jwt.decode(
            token,
            key,
            algorithms=["RS256"],
            issuer=self.issuer,
            audience=client_id if token_use == "id" else None,
            options={"verify_aud": token_use == "id", "require": ["exp", "iat", "iss", "sub"]},
        )
        assert claims["token_use"] == token_use
        if token_use == "access":
            assert claims["client_id"] == client_id
            assert "aud" not in claims
        return claims

    # --- identity pool and S3 ----------------------------------------------------------------------
    @property
    def identity_pool_id(self) -> str:
        """The identity pool id."""
        return self.env["COGNITO_IDENTITY_POOL_ID"]

    @property
    def bucket(self) -> str:
        """The private bucket's name."""
        return self.env["AWS_STORAGE_BUCKET_NAME"]

    @property
    def provider(self) -> str:
        """The identity pool's provider name for the user pool (the issuer without https://)."""
        return self.issuer.removeprefix("https://")

    def cognito_identity(self) -> Any:
        """An unsigned cognito-identity client (GetId and GetCredentialsForIdentity need no keys)."""
        return boto3.client(
            "cognito-identity",
            region_name="us-east-1",
            endpoint_url=self.base,
            config=Config(signature_version=UNSIGNED),
        )

    def identity_admin(self) -> Any:
        """A cognito-identity client signing with the operator's keys (pool management calls)."""
        return boto3.client(
            "cognito-identity",
            region_name="us-east-1",
            endpoint_url=self.base,
            aws_access_key_id=self.env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=self.env["AWS_SECRET_ACCESS_KEY"],
        )

    def identity_credentials(self, id_token: str | None = None) -> tuple[str, dict[str, Any]]:
        """(identity id, credentials) for an ID token, or for a new guest without one."""
        client = self.cognito_identity()
        logins = {self.provider: id_token} if id_token else {}
        identity_id = client.get_id(IdentityPoolId=self.identity_pool_id, Logins=logins)["IdentityId"]
        result = client.get_credentials_for_identity(IdentityId=identity_id, Logins=logins)
        assert result["IdentityId"] == identity_id
        return identity_id, result["Credentials"]

    def s3(self, credentials: dict[str, Any] | None = None, **config: Any) -> Any:
        """An S3 client (SigV4, path-style) with identity credentials, or the admin key from app.env."""
        if credentials is None:
            keys = {
                "aws_access_key_id": self.env["AWS_ACCESS_KEY_ID"],
                "aws_secret_access_key": self.env["AWS_SECRET_ACCESS_KEY"],
            }
        else:
            keys = {
                "aws_access_key_id": credentials["AccessKeyId"],
                "aws_secret_access_key": credentials["SecretKey"],
                "aws_session_token": credentials["SessionToken"],
            }
        return boto3.client(
            "s3",
            region_name="us-east-1",
            endpoint_url=self.s3_base,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}, **config),
            **keys,
        )

    def signing_key(self) -> tuple[str, str]:
        """(kid, private PEM) of the key that signs tokens now, from keys.json."""
        keys = json.loads((self.data_dir / "keys.json").read_text())
        current = next(k for k in reversed(keys) if k["retired_at"] is None)
        return current["kid"], current["private_pem"]

    def forge(self, claims: dict[str, Any], **changes: Any) -> str:
        """A token signed with the pool's real key, with claims changed (None deletes a claim)."""
        kid, pem = self.signing_key()
        payload = {**claims, **changes}
        payload = {k: v for k, v in payload.items() if v is not None}
        return jwt.encode(payload, pem, algorithm="RS256", headers={"kid": kid})

    def faults(self) -> Faults:
        """The fault switch (the stack must run with --faults), signed with the operator's keys."""
        return Faults(self.base, (self.env["AWS_ACCESS_KEY_ID"], self.env["AWS_SECRET_ACCESS_KEY"]))

    def outbox(self) -> list[dict[str, Any]]:
        """The outbox, newest first."""
        return requests.get(f"{self.base}/_outbox.json", timeout=5).json()

    def latest_code(self, recipient: str) -> str:
        """The newest code sent to recipient."""
        return next(m["code"] for m in self.outbox() if m["recipient"] == recipient)

    def sign_in_codes(self, recipient: str) -> list[str]:
        """The e-mailed sign-in codes (USER_AUTH / EMAIL_OTP) sent to recipient, newest first."""
        return [m["code"] for m in self.outbox() if m["recipient"] == recipient and m["kind"] == "email_otp"]

    def stop(self) -> None:
        """Stop the process (by its own pid)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_stack(
    data_dir: Path, config: Path, port: int = 0, timeout: float = 15, extra: tuple[str, ...] = ()
) -> Stack:
    """Start `python -m localcloud` (both origins on free ports unless told) and wait for it."""
    process = subprocess.Popen(
        [sys.executable, "-m", "localcloud", "--port", str(port), "--s3-port", "0", "--data-dir",
         str(data_dir), "--config", str(config), *extra],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    stack = Stack(process, data_dir, config, port)
    deadline = time.monotonic() + timeout
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        stack.output.append(line)
        if "localcloud ready" in line:
            stack.port = int(stack.env["COGNITO_DOMAIN"].rsplit(":", 1)[1])
            # Keep draining output so the server never blocks on a full pipe.
            threading.Thread(target=_drain, args=(process, stack.output), daemon=True).start()
            return stack
    stack.stop()
    raise RuntimeError("localcloud did not start:\n" + "".join(stack.output))


def _drain(process: subprocess.Popen, sink: list[str]) -> None:
    """Read a process's output until it ends."""
    assert process.stdout is not None
    for line in process.stdout:
        sink.append(line)


# --- the fault switch (localcloud/faults.py) -------------------------------------------------------------
def fault_request(
    base: str,
    operation: str,
    params: dict[str, Any],
    keys: tuple[str, ...] | None,
    service: str = "localcloud",
) -> requests.Response:
    """POST /_faults: LocalCloudFaults.<operation>, signed with keys (id, secret[, token]) or unsigned."""
    body = json.dumps(params).encode()
    headers = {"X-Amz-Target": f"LocalCloudFaults.{operation}", "Content-Type": "application/x-amz-json-1.1"}
    if keys is not None:
        signed = AWSRequest(method="POST", url=f"{base}/_faults", data=body, headers=headers)
        SigV4Auth(Credentials(*keys), service, "us-east-1").add_auth(signed)
        headers = dict(signed.headers.items())
    return requests.post(f"{base}/_faults", data=body, headers=headers, timeout=10)


def signed_json_call(
    base: str, target: str, params: Any, keys: tuple[str, ...], service: str = "cognito-identity"
) -> requests.Response:
    """POST one JSON 1.1 call (X-Amz-Target `target`, any JSON body, as any client could send it), signed."""
    body = json.dumps(params).encode()
    headers = {"X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.1"}
    signed = AWSRequest(method="POST", url=f"{base}/", data=body, headers=headers)
    SigV4Auth(Credentials(*keys), service, "us-east-1").add_auth(signed)
    return requests.post(f"{base}/", data=body, headers=dict(signed.headers.items()), timeout=10)


@dataclass
class Faults:
    """The operator's client for a stack's fault switch; put(match, kind, **options) → fault id."""

    base: str
    keys: tuple[str, str]

    def call(self, operation: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """One operation; fails the test if the switch refuses it."""
        response = fault_request(self.base, operation, params or {}, self.keys)
        assert response.status_code == 200, response.text
        return response.json()

    def put(self, match: str, kind: str = "error", **options: Any) -> str:
        """Add a fault (options: Count, Skip, ErrorType, Status, Message, Seconds)."""
        return str(self.call("PutFault", {"Match": match, "Kind": kind, **options})["FaultId"])

    def list(self) -> list[dict[str, Any]]:
        """The faults in force, with their hits."""
        return list(self.call("ListFaults")["Faults"])

    def hits(self, match: str) -> int:
        """How many requests the faults on match have hit."""
        return sum(fault["Hits"] for fault in self.list() if fault["Match"] == match)

    def clear(self) -> None:
        """Remove every fault and release hung requests."""
        self.call("ClearFaults")

    def advance_clock(self, seconds: float) -> float:
        """Move the clock of challenge sessions and e-mailed sign-in codes forward; the total offset."""
        return float(self.call("AdvanceClock", {"Seconds": seconds})["OffsetSeconds"])


# --- hosted-UI helpers -----------------------------------------------------------------------------------
def pkce_pair() -> tuple[str, str]:
    """(verifier, S256 challenge)."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorize_params(stack: Stack, **extra: str) -> dict[str, str]:
    """Typical authorize parameters for the web client."""
    params = {
        "response_type": "code",
        "client_id": stack.client_id,
        "redirect_uri": CALLBACK,
        "scope": "openid email profile aws.cognito.signin.user.admin",
        "state": secrets.token_urlsafe(8),
    }
    params.update(extra)
    return {k: v for k, v in params.items() if v is not None}


def form_of(html: str) -> tuple[str, dict[str, str]]:
    """(action, hidden fields) of the first POST form in a page."""
    match = re.search(r'<form method="post" action="([^"]+)"[^>]*>(.*?)</form>', html, re.S)
    assert match, html
    action = match.group(1).replace("&amp;", "&")
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', match.group(2)))
    return action, hidden


def submit(
    session: requests.Session, stack: Stack, page: requests.Response, **fields: str
) -> requests.Response:
    """Fill and post the page's form (CSRF included), without following the redirect."""
    action, hidden = form_of(page.text)
    return session.post(stack.base + action, data={**hidden, **fields}, allow_redirects=False, timeout=5)


def stack_sign_in(
    stack: Stack, username: str, password: str, session: requests.Session | None = None, **extra: str
) -> tuple[requests.Session, requests.Response, dict[str, str]]:
    """Authorize → /login → submit; returns (browser session, final response, authorize params)."""
    session = session or requests.Session()
    params = authorize_params(stack, **extra)
    response = session.get(f"{stack.base}/oauth2/authorize", params=params, allow_redirects=False, timeout=5)
    assert response.status_code == 302, response.text
    page = session.get(stack.base + response.headers["Location"], timeout=5)
    assert page.status_code == 200
    return session, submit(session, stack, page, username=username, password=password), params


def callback_query(response: requests.Response) -> dict[str, str]:
    """The query parameters of a redirect to the callback."""
    location = response.headers["Location"]
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def code_for(stack: Stack, username: str, password: str, **extra: str) -> tuple[str, dict[str, str]]:
    """A fresh authorization code (and the authorize params used)."""
    _, response, params = stack_sign_in(stack, username, password, **extra)
    assert response.status_code == 302, response.text
    query = callback_query(response)
    assert query["state"] == params["state"]
    return query["code"], params


def spa_id_token(
    stack: Stack, username: str, password: str, redirect_uri: str = "http://localhost:5173/"
) -> str:
    """An ID token of the public (SPA) client: hosted-UI sign-in with PKCE, then the code redeemed."""
    verifier, challenge = pkce_pair()
    browser = requests.Session()
    start = browser.get(
        f"{stack.base}/oauth2/authorize",
        params={"response_type": "code", "client_id": stack.spa_client_id, "redirect_uri": redirect_uri,
                "state": "st", "code_challenge": challenge, "code_challenge_method": "S256"},
        allow_redirects=False, timeout=5,
    )  # fmt: skip
    login = browser.get(stack.base + start.headers["Location"], timeout=5)
    done = submit(browser, stack, login, username=username, password=password)
    assert done.status_code == 302, done.text
    data = {
        "grant_type": "authorization_code",
        "client_id": stack.spa_client_id,
        "code": callback_query(done)["code"],
        "redirect_uri": redirect_uri,
        "code_verifier": verifier,
    }
    response = requests.post(f"{stack.base}/oauth2/token", data=data, timeout=5)
    assert response.status_code == 200, response.text
    return str(response.json()["id_token"])


def exchange(stack: Stack, code: str, redirect_uri: str = CALLBACK, **extra: str) -> requests.Response:
    """POST /oauth2/token with client_secret_basic."""
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri, **extra}
    return requests.post(
        f"{stack.base}/oauth2/token", data=data, auth=(stack.client_id, stack.client_secret), timeout=5
    )


# --- S3 principals ------------------------------------------------------------------------------------
@dataclass
class Person:
    """A principal with identity-pool credentials and an S3 client."""

    identity_id: str
    credentials: dict[str, Any]
    s3: Any

    def key(self, area: str, name: str = "x.txt") -> str:
        """A key under this identity's protected/ or private/ prefix."""
        return f"{area}/{self.identity_id}/{name}"


def s3_person(stack: Stack, id_token: str | None = None) -> Person:
    """Credentials for an ID token (or a guest) and a client signed with them."""
    identity_id, credentials = stack.identity_credentials(id_token)
    return Person(identity_id, credentials, stack.s3(credentials))


def xml_code(response: requests.Response) -> str:
    """The <Code> of an S3 XML error body."""
    assert response.headers["Content-Type"].startswith("application/xml"), response.text
    return response.text.split("<Code>", 1)[1].split("</Code>", 1)[0]


def code_of(call: Callable[[], Any]) -> str:
    """The AWS error code a boto3 call fails with."""
    with pytest.raises(ClientError) as exc:
        call()
    return str(exc.value.response["Error"]["Code"])


def mfa_user(stack: Stack, new_stack_user: Callable) -> tuple[str, str, pyotp.TOTP]:
    """A user of stack with TOTP enabled and preferred: (email, password, their authenticator)."""
    email, password = new_stack_user()
    idp = stack.idp()
    access = stack.api_login(email, password)["AccessToken"]
    totp = pyotp.TOTP(idp.associate_software_token(AccessToken=access)["SecretCode"])
    # The previous step's code (accepted: one step early or late is allowed) so the current one is
    # still unused for the caller's sign-in: the code verifying the set-up is spent (RFC 6238 §5.2).
    idp.verify_software_token(AccessToken=access, UserCode=totp.at(time.time() - totp.interval))
    idp.set_user_mfa_preference(
        AccessToken=access, SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True}
    )
    return email, password, totp


def password_auth(stack: Stack, email: str, password: str) -> dict[str, Any]:
    """InitiateAuth USER_PASSWORD_AUTH through the stack's web client."""
    return stack.idp().initiate_auth(
        ClientId=stack.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": password, "SECRET_HASH": stack.secret_hash(email)},
    )


def answer_totp(stack: Stack, challenge: dict[str, Any], code: str) -> dict[str, Any]:
    """RespondToAuthChallenge SOFTWARE_TOKEN_MFA with a code."""
    username = challenge["ChallengeParameters"]["USER_ID_FOR_SRP"]
    return stack.idp().respond_to_auth_challenge(
        ClientId=stack.client_id,
        ChallengeName="SOFTWARE_TOKEN_MFA",
        Session=challenge["Session"],
        ChallengeResponses={
            "USERNAME": username,
            "SOFTWARE_TOKEN_MFA_CODE": code,
            "SECRET_HASH": stack.secret_hash(username),
        },
    )
