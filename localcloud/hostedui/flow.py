"""Validation of authorize parameters (shared by /oauth2/authorize and every hosted page)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit, urlunsplit

from moto.cognitoidp.exceptions import ResourceNotFoundError
from moto.cognitoidp.models import CognitoIdpUserPoolClient
from werkzeug.datastructures import MultiDict

from localcloud.userpool.models import LocalUserPool

AUTHORIZE_PARAMS = (
    "response_type", "client_id", "redirect_uri", "state", "scope", "code_challenge",
    "code_challenge_method", "nonce", "identity_provider", "idp_identifier", "lang", "login_hint",
)  # fmt: skip
# RFC 7636 §4.2: 43-128 characters of the unreserved set.
PKCE_CHALLENGE = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")


class ErrorPage(Exception):
    """A problem that must be shown as a page, never redirected (bad client_id/redirect_uri)."""

    def __init__(self, message: str, status: int = 400) -> None:
        """Record the message and HTTP status."""
        super().__init__(message)
        self.message = message
        self.status = status


class RedirectError(Exception):
    """An OAuth error redirected to the (validated) redirect_uri."""

    def __init__(self, redirect_uri: str, error: str, description: str, state: str | None) -> None:
        """Record the target and the error."""
        super().__init__(error)
        self.url = add_query(
            redirect_uri,
            {"error": error, "error_description": description, **({"state": state} if state else {})},
        )


# Builds the redirect for an error found once redirect_uri is known: fail(error, description).
Fail = Callable[[str, str], RedirectError]


def add_query(url: str, params: dict[str, str]) -> str:
    """Append query parameters to a URL that may already have some."""
    parts = urlsplit(url)
    query = (parts.query + "&" if parts.query else "") + urlencode(params)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


@dataclass
class AuthorizeRequest:
    """A validated authorization request."""

    pool: LocalUserPool
    client: CognitoIdpUserPoolClient
    redirect_uri: str
    scopes: list[str]
    state: str | None
    nonce: str | None
    code_challenge: str | None
    login_hint: str | None
    params: dict[str, str] = field(default_factory=dict)
    # The external provider to go straight to (identity_provider= or idp_identifier=), if any.
    identity_provider: str | None = None

    @property
    def cognito_only(self) -> bool:
        """identity_provider=COGNITO: the pool's own sign-in only, no external provider offered."""
        return self.params.get("identity_provider") == "COGNITO"

    @property
    def query(self) -> str:
        """The parameters as a query string, carried from page to page."""
        return urlencode(self.params)

    def error(self, error: str, description: str) -> RedirectError:
        """An error to redirect back to the client."""
        return RedirectError(self.redirect_uri, error, description, self.state)


def parse_authorize(args: MultiDict[str, str]) -> AuthorizeRequest:
    """Validate authorize parameters in Cognito's order: client and redirect first (page errors)."""
    pool, client, redirect_uri = _client_and_redirect(args)

    state_values = args.getlist("state")
    state = state_values[0] if len(state_values) == 1 else None

    def fail(error: str, description: str) -> RedirectError:
        return RedirectError(redirect_uri, error, description, state)

    params = _single_params(args, fail)
    config = client.extended_config
    _check_response_type(config, params, fail)
    provider = _identity_provider(pool, config, params, fail)
    scopes = _scopes(config, params, fail)
    _check_pkce(params, fail)
    if not client.generate_secret and not params.get("code_challenge"):
        # A public client proves nothing at the token endpoint but the PKCE verifier: OAuth 2.1 and
        # RFC 9700 §2.1.1 require PKCE of it (Cognito leaves it optional; localcloud refuses).
        raise fail("invalid_request", "code_challenge is required for a public client (PKCE)")

    return AuthorizeRequest(
        pool=pool,
        client=client,
        redirect_uri=redirect_uri,
        scopes=scopes,
        state=params.get("state"),
        nonce=params.get("nonce"),
        code_challenge=params.get("code_challenge"),
        login_hint=params.get("login_hint"),
        params=params,
        identity_provider=provider,
    )


def _identity_provider(pool: LocalUserPool, config: dict, params: dict[str, str], fail: Fail) -> str | None:
    """The provider named by identity_provider= (a ProviderName) or idp_identifier= (an IdpIdentifiers
    entry); it must be the pool's and among the client's SupportedIdentityProviders.

    ``identity_provider=COGNITO`` names the user pool itself: no external provider (None), and the
    sign-in page then offers only its own form (``cognito_only``); the client must list COGNITO.
    """
    supported = config.get("SupportedIdentityProviders") or []
    name = params.get("identity_provider")
    if name == "COGNITO":
        if name not in supported:
            raise fail("invalid_request", "identity_provider COGNITO is not configured for this client")
        return None
    identifier = params.get("idp_identifier")
    if not name and identifier:
        name = next(
            (n for n, p in pool.identity_providers.items()
             if identifier in (p.extended_config.get("IdpIdentifiers") or [])),
            None,
        )  # fmt: skip
        if name is None:
            raise fail("invalid_request", "idp_identifier does not name a configured identity provider")
    if name and (name not in pool.identity_providers or name not in supported):
        raise fail("invalid_request", f"identity_provider {name[:64]} is not configured for this client")
    return name or None


def _single(args: MultiDict[str, str], name: str) -> str | None:
    """A parameter's one value (None if absent); ValueError if it was given more than once."""
    values = args.getlist(name)
    if len(values) > 1:
        raise ValueError(name)
    return values[0] if values else None


def _client_and_redirect(args: MultiDict[str, str]) -> tuple[LocalUserPool, CognitoIdpUserPoolClient, str]:
    """The client and its registered redirect_uri, or a page error (never a redirect to an unknown URI)."""
    from localcloud.userpool import backend as bk

    try:
        client_id = _single(args, "client_id")
    except ValueError:
        raise ErrorPage("Invalid request: client_id was given more than once.") from None
    if not client_id:
        raise ErrorPage("Invalid request: client_id is required.")
    try:
        pool, client = bk.pool_for_client(client_id)
    except ResourceNotFoundError:
        raise ErrorPage("Invalid request: client_id does not exist.") from None
    try:
        redirect_uri = _single(args, "redirect_uri")
    except ValueError:
        raise ErrorPage("Invalid request: redirect_uri was given more than once.") from None
    if not redirect_uri or redirect_uri not in (client.extended_config.get("CallbackURLs") or []):
        raise ErrorPage("redirect_mismatch: redirect_uri is not registered for this client.")
    return pool, client, redirect_uri


def _single_params(args: MultiDict[str, str], fail: Fail) -> dict[str, str]:
    """The authorize parameters present, each given at most once."""
    params: dict[str, str] = {}
    for name in AUTHORIZE_PARAMS:
        try:
            value = _single(args, name)
        except ValueError:
            raise fail("invalid_request", f"{name} was given more than once") from None
        if value is not None:
            params[name] = value
    return params


def _check_response_type(config: dict, params: dict[str, str], fail: Fail) -> None:
    """The client must allow OAuth and the response_type's flow; only the code flow is emulated."""
    if not config.get("AllowedOAuthFlowsUserPoolClient"):
        raise fail("unauthorized_client", "Client is not enabled for OAuth2.0 flows.")
    response_type = params.get("response_type")
    if not response_type:
        raise fail("invalid_request", "response_type is required")
    if response_type not in ("code", "token"):
        raise fail("unsupported_response_type", "response_type must be code or token")
    if response_type not in [
        ("code" if f == "code" else "token") for f in config.get("AllowedOAuthFlows") or []
    ]:
        raise fail("unauthorized_client", f"Client is not allowed the {response_type} flow")
    if response_type == "token":
        raise fail("unsupported_response_type", "localcloud emulates the code flow only")


def _scopes(config: dict, params: dict[str, str], fail: Fail) -> list[str]:
    """The requested scopes the client may use (others dropped silently, like Cognito), else all allowed."""
    allowed = list(config.get("AllowedOAuthScopes") or [])
    if "scope" not in params:
        return allowed
    scopes = [s for s in dict.fromkeys(params["scope"].split()) if s in allowed]
    if not scopes:
        raise fail("invalid_scope", "none of the requested scopes is allowed for this client")
    return scopes


def _check_pkce(params: dict[str, str], fail: Fail) -> None:
    """RFC 7636: if PKCE is used, S256 with a well-formed challenge."""
    challenge = params.get("code_challenge")
    method = params.get("code_challenge_method")
    if challenge or method:
        if method != "S256":
            raise fail("invalid_request", "code_challenge_method must be S256")
        if not challenge or not PKCE_CHALLENGE.match(challenge):
            raise fail("invalid_request", "code_challenge is malformed")
