"""Bearer authentication for the JSON API: Cognito access tokens verified locally (RFC 6750).

Only `Authorization: Bearer <access token>` authenticates an API request. A browser session
cookie is ignored by the API (so no CSRF exposure): the API is for clients that hold tokens.
`authenticate` is settings.API_AUTHENTICATOR, called by project.api.api_view.
"""

from __future__ import annotations

import hashlib
import logging
import re
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, JsonResponse

from accounts import selectors, services
from project.api import ApiPrincipal, ApiRefused, problem
from project.integrations import cognito

logger = logging.getLogger(__name__)

# RFC 6750 §2.1: b64token, one space after the scheme, nothing after the token.
BEARER_RE = re.compile(r"^Bearer ([A-Za-z0-9\-._~+/]+=*)$")


def _challenge(status: int, detail: str, error: str | None, scope: str | None = None) -> JsonResponse:
    response = problem(status, detail, error=error)
    params = ['realm="api"']
    if error:
        params.append(f'error="{error}"')
        params.append(f'error_description="{detail}"')
    if scope:
        params.append(f'scope="{scope}"')
    response["WWW-Authenticate"] = "Bearer " + ", ".join(params)
    return response


def _token_from_header(request: HttpRequest) -> str:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if not header:
        # RFC 6750 §3.1: a request with no credentials gets a challenge without an error code.
        raise ApiRefused(_challenge(401, "Authentication required: send a Bearer access token.", None))
    if not header.isascii() or len(header) > cognito.MAX_TOKEN_LENGTH + 16:
        raise ApiRefused(_challenge(401, "The access token is malformed.", "invalid_token"))
    match = BEARER_RE.match(header)
    if not match:
        if not header.startswith("Bearer "):
            raise ApiRefused(_challenge(401, "Authentication required: send a Bearer access token.", None))
        raise ApiRefused(_challenge(401, "The access token is malformed.", "invalid_token"))
    return match.group(1)


def _confirmed_by_cognito(token: str, claims: dict[str, Any]) -> bool:
    """Opt-in: ask Cognito (GetUser) whether the token still stands, at most once per TTL."""
    key = "api:confirmed:" + hashlib.sha256(token.encode()).hexdigest()
    verdict = cache.get(key)
    if verdict is None:
        try:
            cognito.user_pool().get_user(access_token=token)
            verdict = True
        except cognito.TokenRejected:
            verdict = False
        cache.set(key, verdict, settings.API_CONFIRM_TOKENS_TTL)
    return verdict


def _user_for(token: str, claims: dict[str, Any]):
    user = selectors.user_for_api(sub=claims["sub"])
    if user is not None:
        return _active(user)
    # First sight of this person: the access token has no e-mail, so ask Cognito once. Cognito
    # refusing the token (revoked, user deleted) is the client's 401, not an outage's 503.
    try:
        attributes = cognito.user_pool().get_user(access_token=token)
    except cognito.TokenRejected as exc:
        logger.info("API access token refused by Cognito: %s", exc)
        raise ApiRefused(_challenge(401, "The access token was revoked.", "invalid_token")) from exc
    user = services.user_create_from_claims(
        claims={
            **attributes,
            "sub": claims["sub"],
            "cognito:username": claims.get("username", ""),
            "cognito:groups": claims.get("cognito:groups", []),
        }
    )
    return _active(user)


def _active(user):
    if not user.is_active:
        raise ApiRefused(_challenge(401, "The account is disabled.", "invalid_token"))
    return user


def authenticate(request: HttpRequest, *, scope: str) -> ApiPrincipal:
    """The principal of an API request, or ApiRefused with the RFC 6750 response."""
    token = _token_from_header(request)
    try:
        claims = cognito.user_pool().verify_token(
            token, token_use="access", client_ids=settings.API_CLIENT_IDS
        )
    except cognito.InvalidToken as exc:
        logger.info("API access token refused: %s", exc)
        raise ApiRefused(_challenge(401, "The access token is invalid or expired.", "invalid_token")) from exc
    granted = str(claims.get("scope", "")).split()
    if scope not in granted:
        raise ApiRefused(
            _challenge(403, f"The access token lacks the {scope} scope.", "insufficient_scope", scope)
        )
    if settings.API_CONFIRM_TOKENS and not _confirmed_by_cognito(token, claims):
        raise ApiRefused(_challenge(401, "The access token was revoked.", "invalid_token"))
    return ApiPrincipal(user=_user_for(token, claims), claims=claims, token=token)
