"""Amazon Cognito user pool and hosted UI: discovery, JWKS, token checks, token endpoint, logout.

The one module that talks to the user pool (over HTTP and through boto3's cognito-idp). Every URL
comes from settings or from the pool's discovery document, so the same code talks to AWS or to
the local stack (localcloud/). `user_pool()` is the process's one `CognitoUserPool`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import threading
import time
from collections import OrderedDict
from typing import Any
from urllib.parse import urlencode

import boto3
import jwt
import requests
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core.cache import cache

from project.integrations import outbound

logger = logging.getLogger(__name__)

# A Cognito JWT is 1-2 kB; anything far larger is refused before any parsing work.
MAX_TOKEN_LENGTH = 8192
DISCOVERY_CACHE_SECONDS = 24 * 60 * 60
JWKS_CACHE_SECONDS = 24 * 60 * 60
LOCAL_JWKS_SECONDS = 10 * 60
PASSWORD_POLICY_CACHE_SECONDS = 60 * 60

# After a refetch that failed (Cognito unreachable), the next may come this soon, not a minute later:
# sign-ins with a rotated key work again within seconds of the JWKS coming back, and an outage
# still costs at most one fetch per this many seconds across all processes.
JWKS_FAILED_REFETCH_SECONDS = 5

VERIFIED_CACHE_SIZE = 4096


class CognitoError(Exception):
    """Base of every failure talking to, or believing, Cognito."""


class CognitoUnavailable(CognitoError):
    """Cognito could not be reached, timed out, or answered with a server error."""


class TokenRejected(CognitoError):
    """Cognito answered a token request with an OAuth error (invalid_grant, invalid_client...)."""

    def __init__(self, error: str, description: str = "", status: int = 400) -> None:
        super().__init__(f"{error}: {description}" if description else error)
        self.error = error
        self.description = description
        self.status = status


class InvalidToken(CognitoError):
    """A JWT failed verification."""


class AttributeUpdateRefused(CognitoError):
    """Cognito refused the attribute values themselves (not a transient failure)."""


class CognitoRefused(CognitoError):
    """Cognito answered a self-service call with a client error (a wrong code, a bad password...).

    `code` is AWS's error type (`CodeMismatchException`), `message` its text: for logs, never
    for the user (the account page maps codes to sentences).
    """

    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message


class UserNotFound(CognitoError):
    """An admin call named a user the pool does not have (deleted there meanwhile)."""


class AdminCallRefused(CognitoError):
    """Cognito refused an admin call for what it asked (not a transient failure): `code` says why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message


class Throttled(CognitoUnavailable):
    """Cognito answered TooManyRequestsException / LimitExceededException (after boto3's retries)."""


def _timeout() -> tuple[float, float]:
    return (settings.COGNITO_TIMEOUT, settings.COGNITO_TIMEOUT)


def discovery_url() -> str:
    return f"{settings.COGNITO_IDP_URL}/{settings.COGNITO_USER_POOL_ID}/.well-known/openid-configuration"


def _cache_key(kind: str) -> str:
    """The shared-cache key of `kind` for the pool as configured now.

    The discovery URL is part of it: after the endpoint changes (another port of the local stack
    on the same data, another region) nothing cached for the old one is read again, so no code or
    client secret goes to an old token endpoint.
    """
    digest = hashlib.sha256(discovery_url().encode()).hexdigest()[:16]
    return f"cognito:{kind}:{settings.COGNITO_USER_POOL_ID}:{digest}"


def hosted_page_url(page: str) -> str:
    """A hosted-UI page (`signup`, `forgotPassword`) that takes the authorize parameters."""
    return f"{settings.COGNITO_DOMAIN}/{page}"


def token_expiry(tokens: dict[str, Any], id_claims: dict[str, Any]) -> int:
    """When the first of the access and ID tokens expires (epoch seconds)."""
    expires_in = int(tokens.get("expires_in") or 3600)
    return min(int(time.time()) + expires_in, int(id_claims["exp"]))


def secret_hash(username: str) -> str:
    """SECRET_HASH for user-pool API calls of a client with a secret."""
    message = (username + settings.COGNITO_CLIENT_ID).encode()
    digest = hmac.new(settings.COGNITO_CLIENT_SECRET.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _attribute_list(attributes: dict[str, str]) -> list[dict[str, str]]:
    return [{"Name": name, "Value": value} for name, value in attributes.items()]


class ObservedSession(requests.Session):
    """A requests session that reports each request it sends to `outbound` (tests, benchmarks)."""

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        if outbound.listening():
            outbound.report(outbound.OutboundCall("cognito", str(request.method), str(request.url)))
        return super().send(request, **kwargs)


class CognitoUserPool:
    """The user pool and its hosted UI, with the caches that keep the hot path off the network.

    Holds one requests session (discovery, JWKS, token endpoint, revocation), one cognito-idp
    client (built on first use; boto3 clients are thread-safe), the discovery document and keys
    (process-local copies of what is also in the shared cache, so an API request or a signed-in
    page view touches neither the network nor the database), and the claims of tokens verified
    lately (an API client sends the same access token for an hour, and RS256 verification is the
    costliest step of a request). Thread-safe; the memo of verified tokens is LRU-bounded.
    """

    def __init__(self) -> None:
        # Every request it sends is reported to project.integrations.outbound (count calls there).
        self.http = ObservedSession()
        self._lock = threading.Lock()
        # In-process copies, each with the discovery URL it belongs to (settings can change).
        self._discovery: tuple[str, dict[str, Any]] | None = None
        self._jwks: tuple[str, dict[str, jwt.PyJWK], float] | None = None
        self._verified: OrderedDict[tuple, dict[str, Any]] = OrderedDict()
        self._idp_client: Any = None
        # The same client without botocore's retries, for calls that must not run twice (RESEND).
        self._idp_client_once: Any = None

    def reset(self) -> None:
        """Forget discovery, keys, verified tokens and the client (tests; after settings change)."""
        with self._lock:
            self._discovery = None
            self._jwks = None
            self._verified.clear()
            self._idp_client = None
            self._idp_client_once = None
        cache.delete_many([_cache_key(k) for k in ("discovery", "jwks", "jwks-refetch", "password-policy")])

    def _get_json(self, url: str) -> dict[str, Any]:
        try:
            response = self.http.get(url, timeout=_timeout())
        except requests.RequestException as exc:
            raise CognitoUnavailable(f"GET {url} failed: {exc}") from exc
        if response.status_code != 200:
            raise CognitoUnavailable(f"GET {url} answered {response.status_code}")
        try:
            data = response.json()
        except ValueError as exc:
            raise CognitoUnavailable(f"GET {url} answered with no JSON") from exc
        if not isinstance(data, dict):
            raise CognitoUnavailable(f"GET {url} answered with unexpected JSON")
        return data

    # --- Discovery ---------------------------------------------------------------------------

    def discovery(self) -> dict[str, Any]:
        """The pool's OpenID configuration: fetched once, cached in-process and in the shared cache."""
        url = discovery_url()
        memo = self._discovery
        if memo is not None and memo[0] == url:
            return memo[1]
        cache_key = _cache_key("discovery")
        doc = cache.get(cache_key)
        if doc is None:
            doc = self._get_json(url)
            if doc.get("issuer") != settings.COGNITO_ISSUER:
                # The document must describe the pool we are configured for, or nothing it says holds.
                raise CognitoUnavailable(
                    f"discovery issuer {doc.get('issuer')!r} is not {settings.COGNITO_ISSUER!r}"
                )
            cache.set(cache_key, doc, DISCOVERY_CACHE_SECONDS)
        self._discovery = (url, doc)
        return doc

    def endpoint(self, name: str) -> str:
        """An endpoint of the pool: from discovery, else the hosted-UI domain's documented path."""
        fallbacks = {
            "end_session_endpoint": f"{settings.COGNITO_DOMAIN}/logout",
            "revocation_endpoint": f"{settings.COGNITO_DOMAIN}/oauth2/revoke",
        }
        value = self.discovery().get(name) or fallbacks.get(name)
        if not value:
            raise CognitoUnavailable(f"discovery document has no {name}")
        return value

    # --- JWKS --------------------------------------------------------------------------------

    def _fetch_jwks(self) -> dict[str, dict[str, Any]]:
        data = self._get_json(self.endpoint("jwks_uri"))
        keys = {}
        for jwk in data.get("keys", []):
            # Only RSA signing keys for RS256 are ever usable: anything else is ignored outright.
            if (
                isinstance(jwk, dict)
                and jwk.get("kty") == "RSA"
                and jwk.get("alg", "RS256") == "RS256"
                and "kid" in jwk
            ):
                if jwk.get("use", "sig") == "sig":
                    keys[str(jwk["kid"])] = jwk
        return keys

    def _remember_jwks(self, raw: dict[str, dict[str, Any]]) -> dict[str, jwt.PyJWK]:
        keys = {kid: jwt.PyJWK(jwk, algorithm="RS256") for kid, jwk in raw.items()}
        # Re-read from the shared cache now and then, so a key withdrawn from the JWKS is dropped.
        self._jwks = (discovery_url(), keys, time.monotonic() + LOCAL_JWKS_SECONDS)
        return keys

    def _keys(self) -> dict[str, jwt.PyJWK]:
        memo = self._jwks
        if memo is not None and memo[2] > time.monotonic() and memo[0] == discovery_url():
            return memo[1]
        cache_key = _cache_key("jwks")
        raw = cache.get(cache_key)
        if raw is None:
            raw = self._fetch_jwks()
            cache.set(cache_key, raw, JWKS_CACHE_SECONDS)
        return self._remember_jwks(raw)

    def _refetch_jwks(self) -> dict[str, jwt.PyJWK] | None:
        """Refetch the JWKS after an unknown kid, at most once a minute across all processes."""
        if not cache.add(_cache_key("jwks-refetch"), True, settings.COGNITO_JWKS_MIN_REFETCH):
            # Another request (here or in another process) refetched recently: take its result.
            raw = cache.get(_cache_key("jwks"))
            return None if raw is None else self._remember_jwks(raw)
        try:
            raw = self._fetch_jwks()
        except CognitoError:
            cache.set(
                _cache_key("jwks-refetch"),
                True,
                min(JWKS_FAILED_REFETCH_SECONDS, settings.COGNITO_JWKS_MIN_REFETCH),
            )
            raise
        cache.set(_cache_key("jwks"), raw, JWKS_CACHE_SECONDS)
        keys = self._remember_jwks(raw)
        logger.info("JWKS refetched after an unknown kid; %d key(s)", len(keys))
        return keys

    def signing_key(self, kid: str) -> jwt.PyJWK:
        keys = self._keys()
        if kid in keys:
            return keys[kid]
        with self._lock:
            keys = self._refetch_jwks() or {}
        if kid in keys:
            return keys[kid]
        raise InvalidToken(f"unknown kid {kid!r}")

    # --- Token verification (as AWS prescribes) ---------------------------------------------

    def verify_token(
        self,
        token: str,
        *,
        token_use: str,
        nonce: str | None = None,
        client_ids: list[str] | None = None,
    ) -> dict[str, Any]:
        """Verify a Cognito JWT and return its claims; raise InvalidToken on any doubt.

        RS256 only; key by kid from the pool's JWKS; iss; exp/iat with leeway; token_use; the ID
        token's aud (or the access token's client_id) an expected client; nonce when given.
        """
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
            raise InvalidToken("malformed token")
        allowed = client_ids if client_ids is not None else [settings.COGNITO_CLIENT_ID]
        memo_key = (hashlib.sha256(token.encode()).digest(), token_use, nonce, tuple(allowed))
        claims = self._verified.get(memo_key)
        if claims is not None and claims["exp"] + settings.COGNITO_LEEWAY > time.time():
            # The same bytes verified before: only the clock can have changed the verdict.
            return dict(claims)
        claims = self._verify(token, token_use=token_use, nonce=nonce, allowed=allowed)
        with self._lock:
            self._verified[memo_key] = claims
            if len(self._verified) > VERIFIED_CACHE_SIZE:
                self._verified.popitem(last=False)
        return dict(claims)

    def _verify(self, token: str, *, token_use: str, nonce: str | None, allowed: list[str]) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidToken(f"malformed token: {exc}") from exc
        if header.get("alg") != "RS256":
            raise InvalidToken(f"alg {header.get('alg')!r} refused")
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise InvalidToken("no kid")
        key = self.signing_key(kid)
        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=["RS256"],
                issuer=settings.COGNITO_ISSUER,
                leeway=settings.COGNITO_LEEWAY,
                options={"require": ["exp", "iat", "iss", "sub", "token_use"], "verify_aud": False},
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from exc
        if claims.get("token_use") != token_use:
            raise InvalidToken(f"token_use {claims.get('token_use')!r} is not {token_use!r}")
        audience = claims.get("aud") if token_use == "id" else claims.get("client_id")
        if not isinstance(audience, str) or audience not in allowed:
            raise InvalidToken("token was issued to another client")
        if nonce is not None:
            token_nonce = claims.get("nonce")
            if not isinstance(token_nonce, str) or not hmac.compare_digest(token_nonce, nonce):
                raise InvalidToken("nonce mismatch")
        return claims

    # --- Token endpoint, revocation, logout --------------------------------------------------

    def token_request(self, data: dict[str, str]) -> dict[str, Any]:
        """POST to /oauth2/token with client_secret_basic; return the JSON or raise."""
        url = self.endpoint("token_endpoint")
        try:
            response = self.http.post(url, data=data, auth=_client_auth(), timeout=_timeout())
        except requests.RequestException as exc:
            raise CognitoUnavailable(f"token endpoint unreachable: {exc}") from exc
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code == 200 and isinstance(body, dict) and "access_token" in body:
            return body
        if 400 <= response.status_code < 500 and isinstance(body, dict) and "error" in body:
            raise TokenRejected(
                str(body["error"]), str(body.get("error_description", "")), response.status_code
            )
        raise CognitoUnavailable(f"token endpoint answered {response.status_code}")

    def exchange_code(self, *, code: str, redirect_uri: str, code_verifier: str | None) -> dict[str, Any]:
        data = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        if code_verifier:
            data["code_verifier"] = code_verifier
        return self.token_request(data)

    def refresh(self, refresh_token: str) -> dict[str, Any]:
        """New access and ID tokens from a refresh token (Cognito keeps the refresh token as is)."""
        return self.token_request({"grant_type": "refresh_token", "refresh_token": refresh_token})

    def revoke(self, refresh_token: str) -> None:
        """Revoke a refresh token and every access token issued from it (RFC 7009)."""
        url = self.endpoint("revocation_endpoint")
        try:
            response = self.http.post(
                url, data={"token": refresh_token}, auth=_client_auth(), timeout=_timeout()
            )
        except requests.RequestException as exc:
            raise CognitoUnavailable(f"revocation endpoint unreachable: {exc}") from exc
        if response.status_code != 200:
            raise CognitoUnavailable(f"revocation endpoint answered {response.status_code}")

    def logout_url(self, logout_uri: str) -> str:
        """Cognito's /logout (not RP-initiated logout): client_id + a registered logout_uri."""
        query = urlencode({"client_id": settings.COGNITO_CLIENT_ID, "logout_uri": logout_uri})
        return f"{self.endpoint('end_session_endpoint')}?{query}"

    # --- User pool API (boto3) ---------------------------------------------------------------

    def _client(self, *, once: bool = False) -> Any:
        """The cognito-idp client, built once (boto3 clients are thread-safe; building one is slow).

        `once`: a client that never retries (total_max_attempts=1), for a call whose effect must not
        happen twice when the first attempt timed out after Cognito acted on it (an e-mail sent).
        """
        attribute = "_idp_client_once" if once else "_idp_client"
        client = getattr(self, attribute)
        if client is None:
            with self._lock:
                client = getattr(self, attribute)
                if client is None:
                    client = boto3.session.Session().client(
                        "cognito-idp",
                        region_name=settings.COGNITO_REGION,
                        endpoint_url=settings.AWS_ENDPOINT_URL,
                        config=Config(
                            connect_timeout=settings.COGNITO_TIMEOUT,
                            read_timeout=settings.COGNITO_TIMEOUT,
                            # botocore's max_attempts counts retries after the first attempt;
                            # total_max_attempts=1 is the first attempt alone.
                            retries={"total_max_attempts": 1}
                            if once
                            else {"max_attempts": 2, "mode": "standard"},
                        ),
                    )
                    client = outbound.observe_client(client)
                    setattr(self, attribute, client)
        return client

    def _call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        try:
            return getattr(self._client(), operation)(**kwargs)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            message = exc.response.get("Error", {}).get("Message", "")
            if code in ("NotAuthorizedException", "UserNotFoundException"):
                raise TokenRejected(code, message) from exc
            if code in ("InvalidParameterException", "AliasExistsException"):
                raise AttributeUpdateRefused(f"{code}: {message}") from exc
            raise CognitoUnavailable(f"{operation}: {code} {message}") from exc
        except BotoCoreError as exc:
            raise CognitoUnavailable(f"{operation}: {exc}") from exc

    def account_call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        """A self-service call with the user's access token (reference-2 §3), e.g.
        `account_call("change_password", AccessToken=..., PreviousPassword=..., ...)`.

        Every answer Cognito gives as a client error is CognitoRefused with its error type; a
        server error, throttling or no answer at all is CognitoUnavailable.
        """
        try:
            return getattr(self._client(), operation)(**kwargs)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code, message = str(error.get("Code", "")), str(error.get("Message", ""))
            status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
            if status >= 500 or not code or code.isdigit() or code == "InternalErrorException":
                raise CognitoUnavailable(f"{operation}: {code} {message}") from exc
            raise CognitoRefused(code, message) from exc
        except BotoCoreError as exc:
            raise CognitoUnavailable(f"{operation}: {exc}") from exc

    def password_policy(self) -> dict[str, Any]:
        """The pool's PasswordPolicy (DescribeUserPool with the server's credentials), cached an hour."""
        cache_key = _cache_key("password-policy")
        policy = cache.get(cache_key)
        if policy is None:
            answer = self._call("describe_user_pool", UserPoolId=settings.COGNITO_USER_POOL_ID)
            policy = answer.get("UserPool", {}).get("Policies", {}).get("PasswordPolicy", {})
            cache.set(cache_key, policy, PASSWORD_POLICY_CACHE_SECONDS)
        return policy

    def update_user_attributes(self, *, access_token: str, attributes: dict[str, str]) -> None:
        """UpdateUserAttributes as the user (the client's WriteAttributes apply)."""
        self._call(
            "update_user_attributes", AccessToken=access_token, UserAttributes=_attribute_list(attributes)
        )

    def admin_update_user_attributes(self, *, username: str, attributes: dict[str, str]) -> None:
        """AdminUpdateUserAttributes with the server's AWS credentials (admin edits, retries)."""
        self._admin_call(
            "admin_update_user_attributes", Username=username, UserAttributes=_attribute_list(attributes)
        )

    def admin_disable_provider_for_user(self, *, provider_name: str, provider_user_id: str) -> None:
        """AdminDisableProviderForUser: unlink one external identity from its (native) user."""
        self._call(
            "admin_disable_provider_for_user",
            UserPoolId=settings.COGNITO_USER_POOL_ID,
            User={
                "ProviderName": provider_name,
                "ProviderAttributeName": "Cognito_Subject",
                "ProviderAttributeValue": provider_user_id,
            },
        )

    def get_user(self, *, access_token: str) -> dict[str, str]:
        """GetUser: the user's attributes; TokenRejected if Cognito no longer honours the token."""
        answer = self._call("get_user", AccessToken=access_token)
        return {a["Name"]: a["Value"] for a in answer.get("UserAttributes", [])}

    def password_sign_in(self, *, username: str, password: str) -> dict[str, Any]:
        """InitiateAuth USER_PASSWORD_AUTH (for developer tools; the app itself uses the hosted UI)."""
        answer = self._call(
            "initiate_auth",
            ClientId=settings.COGNITO_CLIENT_ID,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": password, "SECRET_HASH": secret_hash(username)},
        )
        if "AuthenticationResult" not in answer:
            raise TokenRejected(
                answer.get("ChallengeName", "challenge"), "a challenge must be answered first"
            )
        return answer["AuthenticationResult"]

    # --- Admin calls for the operator console (SigV4 with the server's AWS credentials) --------

    def _admin_call(self, operation: str, *, once: bool = False, **kwargs: Any) -> dict[str, Any]:
        """An admin call on this pool; its errors mapped for the operator console. `once`: no retry."""
        try:
            client = self._client(once=once)
            return getattr(client, operation)(UserPoolId=settings.COGNITO_USER_POOL_ID, **kwargs)
        except ClientError as exc:
            raise _admin_error(operation, exc) from exc
        except BotoCoreError as exc:
            raise CognitoUnavailable(f"{operation}: {exc}") from exc

    def admin_get_user(self, *, username: str) -> dict[str, Any]:
        """AdminGetUser: Enabled, UserStatus, attributes (as a dict), MFA settings, dates."""
        answer = self._admin_call("admin_get_user", Username=username)
        answer["Attributes"] = {a["Name"]: a["Value"] for a in answer.pop("UserAttributes", [])}
        return answer

    def admin_list_groups_for_user(self, *, username: str) -> list[str]:
        """The user's groups (every page; a user is in few)."""
        names: list[str] = []
        token: str | None = None
        while True:
            extra = {"NextToken": token} if token else {}
            answer = self._admin_call("admin_list_groups_for_user", Username=username, Limit=60, **extra)
            names.extend(group["GroupName"] for group in answer.get("Groups", []))
            token = answer.get("NextToken")
            if not token:
                return sorted(names)

    def admin_disable_user(self, *, username: str) -> None:
        self._admin_call("admin_disable_user", Username=username)

    def admin_enable_user(self, *, username: str) -> None:
        self._admin_call("admin_enable_user", Username=username)

    def admin_user_global_sign_out(self, *, username: str) -> None:
        """Revoke every refresh token of the user (and, on AWS, their access tokens)."""
        self._admin_call("admin_user_global_sign_out", Username=username)

    def admin_reset_user_password(self, *, username: str) -> None:
        """RESET_REQUIRED; Cognito e-mails a code and the hosted UI takes the user through the reset."""
        self._admin_call("admin_reset_user_password", Username=username)

    def admin_reset_mfa(self, *, username: str) -> None:
        """Turn off the user's TOTP: they sign in with the password and may set up MFA again."""
        self._admin_call(
            "admin_set_user_mfa_preference",
            Username=username,
            SoftwareTokenMfaSettings={"Enabled": False, "PreferredMfa": False},
        )

    def admin_add_user_to_group(self, *, username: str, group: str) -> None:
        self._admin_call("admin_add_user_to_group", Username=username, GroupName=group)

    def admin_remove_user_from_group(self, *, username: str, group: str) -> None:
        self._admin_call("admin_remove_user_from_group", Username=username, GroupName=group)

    def admin_create_user(self, *, email: str, attributes: dict[str, str]) -> dict[str, Any]:
        """AdminCreateUser: Cognito e-mails a temporary password; first sign-in sets a new one."""
        answer = self._admin_call(
            "admin_create_user",
            Username=email,
            UserAttributes=_attribute_list({"email": email, "email_verified": "true", **attributes}),
            DesiredDeliveryMediums=["EMAIL"],
        )
        user = answer["User"]
        user["Attributes"] = {a["Name"]: a["Value"] for a in user.pop("Attributes", [])}
        return user

    def admin_resend_invitation(self, *, username: str) -> dict[str, Any]:
        """AdminCreateUser with MessageAction=RESEND: a new temporary password is e-mailed and the
        old one stops working. Cognito refuses it (UnsupportedUserStateException) unless the user is
        FORCE_CHANGE_PASSWORD, an invitation not yet accepted.

        Sent once, never retried by botocore (a client with total_max_attempts=1): an attempt that timed
        out may have e-mailed a password already, and a retry would e-mail a second one, leaving the
        user with two e-mails of which only the later works. A timeout or throttling is reported
        (CognitoUnavailable / Throttled) and the operator decides whether to send again."""
        answer = self._admin_call(
            "admin_create_user",
            once=True,
            Username=username,
            MessageAction="RESEND",
            DesiredDeliveryMediums=["EMAIL"],
        )
        user = answer["User"]
        user["Attributes"] = {a["Name"]: a["Value"] for a in user.pop("Attributes", [])}
        return user

    def find_user_by_sub(self, *, sub: str) -> dict[str, Any] | None:
        """The pool's user with this sub (ListUsers, Filter `sub = "..."`), None if there is none."""
        users, _ = self.list_users_page(user_filter=list_users_filter("sub", sub), limit=1)
        return next((u for u in users if u["Attributes"].get("sub") == sub), None)

    def admin_delete_user_attributes(self, *, username: str, names: list[str]) -> None:
        self._admin_call("admin_delete_user_attributes", Username=username, UserAttributeNames=names)

    def admin_delete_user(self, *, username: str) -> None:
        self._admin_call("admin_delete_user", Username=username)

    def list_groups(self) -> list[str]:
        """Every group of the pool (names), for the operator's choices."""
        names: list[str] = []
        token: str | None = None
        while True:
            extra = {"NextToken": token} if token else {}
            answer = self._admin_call("list_groups", Limit=60, **extra)
            names.extend(group["GroupName"] for group in answer.get("Groups", []))
            token = answer.get("NextToken")
            if not token:
                return sorted(names)

    def list_users_page(
        self, *, pagination_token: str | None = None, limit: int = 60, user_filter: str = ""
    ) -> tuple[list, str | None]:
        """One ListUsers page (≤ 60 users, attributes as dicts) and the token of the next, if any;
        `user_filter` as list_users_filter makes it.

        A page can be empty while a token is still given: callers go on until there is none.
        """
        extra: dict[str, Any] = {"PaginationToken": pagination_token} if pagination_token else {}
        if user_filter:
            extra["Filter"] = user_filter
        answer = self._admin_call("list_users", Limit=limit, **extra)
        users = answer.get("Users", [])
        for user in users:
            user["Attributes"] = {a["Name"]: a["Value"] for a in user.pop("Attributes", [])}
        return users, answer.get("PaginationToken") or None


def list_users_filter(attribute: str, value: str) -> str:
    """ListUsers' Filter for an exact match: `attribute = "value"`, inner quotes and backslashes escaped."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'{attribute} = "{escaped}"'


_THROTTLED = frozenset({"TooManyRequestsException", "LimitExceededException", "ThrottlingException"})
# The server's own credentials are wrong or not allowed: not about the user, and not fixed by retrying
# the same request differently (an operator's configuration problem, reported as unavailable).
_CREDENTIALS = frozenset(
    {
        "InvalidSignatureException",
        "UnrecognizedClientException",
        "MissingAuthenticationTokenException",
        "IncompleteSignatureException",
        "AccessDeniedException",
        "ExpiredTokenException",
    }
)


def _admin_error(operation: str, exc: ClientError) -> CognitoError:
    error = exc.response.get("Error", {})
    code, message = str(error.get("Code", "")), str(error.get("Message", ""))
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    if code == "UserNotFoundException":
        return UserNotFound(message or "User does not exist.")
    if code in _THROTTLED:
        return Throttled(f"{operation}: {code} {message}")
    if 400 <= status < 500 and code and code not in _CREDENTIALS:
        return AdminCallRefused(code, message)
    return CognitoUnavailable(f"{operation}: {code} {message}")


def client_secret(*, region: str, user_pool_id: str, client_id: str, endpoint_url: str | None = None) -> str:
    """DescribeUserPoolClient's ClientSecret (operator tools: reads no setting; boto3's credentials)."""
    try:
        client: Any = outbound.observe_client(
            boto3.session.Session().client("cognito-idp", region_name=region, endpoint_url=endpoint_url)
        )
        answer = client.describe_user_pool_client(UserPoolId=user_pool_id, ClientId=client_id)
    except (ClientError, BotoCoreError) as exc:
        raise CognitoUnavailable(f"describe_user_pool_client: {exc}") from exc
    secret = answer["UserPoolClient"].get("ClientSecret")
    if not secret:
        raise CognitoError(f"app client {client_id} has no secret; the app needs one (GenerateSecret)")
    return str(secret)


def _client_auth() -> tuple[str, str]:
    return (settings.COGNITO_CLIENT_ID, settings.COGNITO_CLIENT_SECRET)


_user_pool = CognitoUserPool()


def user_pool() -> CognitoUserPool:
    """The process's one user-pool client (its caches are per process)."""
    return _user_pool
