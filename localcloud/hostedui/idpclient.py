"""Cognito's calls to an external identity provider: code redemption, ID-token checks, attributes.

Made over HTTP (stdlib urllib, bounded by a timeout and a size limit) exactly as Cognito makes them
to Google, so a provider that is slow, down or forging tokens behaves here as it would there.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import jwt

from localcloud.idp import catalog
from localcloud.userpool.federation import FederationError

MAX_RESPONSE = 1024 * 1024
APPLE_AUDIENCE = "https://appleid.apple.com"


@dataclass(frozen=True)
class Endpoints:
    """Where a provider is reached, and how it answers."""

    authorize: str
    token: str
    attributes: str | None  # userinfo (Facebook: Graph /me); None: the ID token only (Apple)
    jwks: str | None  # None: no ID token (Facebook)
    issuer: str | None
    style: str  # "oidc", "facebook" or "apple"


def endpoints(config: dict[str, Any], origin: str) -> Endpoints:
    """The provider's endpoints: the fake's on this origin, or an OIDC provider's explicit ones."""
    ptype = config.get("ProviderType", "")
    details = config.get("ProviderDetails") or {}
    fake = catalog.for_provider(ptype, details)
    style = {"Facebook": "facebook", "SignInWithApple": "apple"}.get(ptype, "oidc")
    if fake is not None:
        base = fake.base(origin)
        attributes = {"facebook": f"{base}/me", "apple": None}.get(style, f"{base}/userinfo")
        jwks = None if style == "facebook" else f"{base}/jwks.json"
        return Endpoints(f"{base}/authorize", f"{base}/token", attributes, jwks, fake.issuer, style)
    if (
        ptype == "OIDC"
        and details.get("authorize_url")
        and details.get("token_url")
        and details.get("jwks_uri")
    ):
        return Endpoints(details["authorize_url"], details["token_url"], details.get("attributes_url"),
                         details["jwks_uri"], details.get("oidc_issuer", "").rstrip("/"), "oidc")  # fmt: skip
    raise FederationError(
        "invalid_request",
        "localcloud has no network: an OIDC provider needs authorize_url, token_url and jwks_uri "
        "(the other provider types are served by localcloud's fakes)",
    )


class ProviderCall:
    """One redemption: code → tokens → verified claims and attributes."""

    def __init__(self, name: str, config: dict[str, Any], ends: Endpoints, timeout: float) -> None:
        """name: the ProviderName (prefixed to relayed errors, as Cognito does)."""
        self.name = name
        self.details = config.get("ProviderDetails") or {}
        self.ends = ends
        self.timeout = timeout

    def claims(self, code: str, redirect_uri: str, nonce: str) -> dict[str, Any]:
        """Everything the provider says about the user, its ID token verified first."""
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": self.details.get("client_id", ""),
            "client_secret": self._client_secret(),
        }
        tokens = self._call(self.ends.token, "token", data=urlencode(form).encode())
        claims: dict[str, Any] = {}
        if self.ends.jwks is not None:
            claims = self._verified_id_token(tokens.get("id_token"), nonce)
        access_token = tokens.get("access_token")
        if self.ends.attributes and isinstance(access_token, str):
            if self.ends.style == "facebook":
                query = urlencode({"fields": "id,name,email", "access_token": access_token})
                url = f"{self.ends.attributes}?{query}"
                info = self._call(url, "attributes")
            else:
                info = self._call(self.ends.attributes, "attributes", bearer=access_token)
            if claims and info.get("sub") != claims.get("sub"):  # OIDC Core §5.3.2
                raise FederationError("invalid_request", "userInfo sub does not match the id_token")
            claims = {**info, **claims}
        return claims

    def _client_secret(self) -> str:
        """The stored secret; Apple's is a short-lived ES256 JWT signed with the developer key."""
        if self.ends.style != "apple":
            return str(self.details.get("client_secret", ""))
        now = int(time.time())
        return jwt.encode(
            {"iss": self.details.get("team_id", ""), "iat": now, "exp": now + 300, "aud": APPLE_AUDIENCE,
             "sub": self.details.get("client_id", "")},
            self.details.get("private_key", ""),
            algorithm="ES256",
            headers={"kid": self.details.get("key_id", "")},
        )  # fmt: skip

    def _verified_id_token(self, token: Any, nonce: str) -> dict[str, Any]:
        """The ID token checked as OIDC Core §3.1.3.7 says: signature by a JWKS key, iss, aud, exp, nonce."""
        if not isinstance(token, str):
            raise FederationError("invalid_request", f"{self.name} returned no id_token")
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            keys = self._call(self.ends.jwks or "", "jwks").get("keys") or []
            jwk = next((k for k in keys if isinstance(k, dict) and k.get("kid") == kid), None)
            if jwk is None:
                raise FederationError("invalid_request", "Invalid id_token: unknown signing key")
            claims = jwt.decode(
                token, jwt.PyJWK(jwk).key, algorithms=["RS256"], audience=self.details.get("client_id"),
                issuer=self.ends.issuer, options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )  # fmt: skip
        except (jwt.PyJWTError, ValueError, TypeError) as exc:
            raise FederationError("invalid_request", f"Invalid id_token: {exc}") from None
        if claims.get("nonce") != nonce:
            raise FederationError("invalid_request", "Invalid id_token: nonce mismatch")
        return claims

    def _call(
        self, url: str, what: str, data: bytes | None = None, bearer: str | None = None
    ) -> dict[str, Any]:
        """A JSON answer from the provider; its errors relayed as Cognito relays them."""
        if not url.startswith(("http://", "https://")):  # never file: or another scheme
            raise FederationError("invalid_request", f"The IdP {what} endpoint is not an http(s) URL")
        headers = {"Accept": "application/json"}
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        request = urllib.request.Request(url, data=data, headers=headers, method="POST" if data else "GET")  # noqa: S310 - http(s) only
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - http(s) only
                body = response.read(MAX_RESPONSE + 1)
        except urllib.error.HTTPError as exc:
            error = _error_code(exc.read(4096))
            raise FederationError(
                error or "invalid_request", f"{self.name} Error - {exc.code} {error}"
            ) from None
        except TimeoutError:
            raise FederationError(
                "invalid_request", f"Timeout occurred in calling IdP {what} endpoint"
            ) from None
        except (urllib.error.URLError, OSError) as exc:
            raise FederationError(
                "invalid_request", f"Connection error in calling IdP {what} endpoint: {exc}"
            ) from None
        try:
            parsed = json.loads(body) if len(body) <= MAX_RESPONSE else None
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            raise FederationError("invalid_request", f"{self.name} returned an unreadable {what} response")
        return parsed


def _error_code(body: bytes) -> str:
    """The OAuth error code of a provider's error body (RFC 6749 §5.2), if it is a sane one."""
    try:
        error = json.loads(body).get("error")
    except (ValueError, AttributeError):
        return ""
    return (
        error
        if isinstance(error, str)
        and error.isascii()
        and len(error) <= 64
        and error.replace("_", "").isalnum()
        else ""
    )
