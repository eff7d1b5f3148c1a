"""The JSON API's plumbing: RFC 9457 problem documents and the `api_view` decorator.

Who a request acts for is decided by the callable named in settings.API_AUTHENTICATOR
(accounts.bearer.authenticate: Cognito access tokens), so the apps serving endpoints do not
import the sign-in app, as AUTHENTICATION_BACKENDS does for pages.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.module_loading import import_string
from django.views.decorators.csrf import csrf_exempt

from project.integrations import cognito

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ApiPrincipal:
    """Who an API request acts for: the local user and the verified access-token claims."""

    user: Any
    claims: dict[str, Any]
    token: str

    @property
    def groups(self) -> list[str]:
        groups = self.claims.get("cognito:groups") or []
        return [g for g in groups if isinstance(g, str)] if isinstance(groups, list) else []


API_PREFIX = "/api/"


def is_api_request(request: HttpRequest) -> bool:
    """Whether request is for the JSON API (answered with RFC 9457 problems, never HTML pages).

    By path_info, the path below the script prefix, the one URL patterns match: under a prefix
    (FORCE_SCRIPT_NAME, a proxy's SCRIPT_NAME) request.path starts with it, not with /api/.
    """
    return request.path_info.startswith(API_PREFIX)


def problem(status: int, detail: str, *, error: str | None = None, **extra: Any) -> JsonResponse:
    """An RFC 9457 problem document, with RFC 6750's error code where one applies."""
    body: dict[str, Any] = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status}
    body["detail"] = detail
    if error:
        body["error"] = error
    body.update(extra)
    response = JsonResponse(body, status=status, content_type="application/problem+json")
    response["Cache-Control"] = "no-store"
    return response


class ApiRefused(Exception):
    """The authenticator refused the request; `response` says why (e.g. an RFC 6750 challenge)."""

    def __init__(self, response: JsonResponse) -> None:
        super().__init__(response.status_code)
        self.response = response


def authenticate(request: HttpRequest, *, scope: str) -> ApiPrincipal:
    """The principal of an API request (settings.API_AUTHENTICATOR), or ApiRefused."""
    return import_string(settings.API_AUTHENTICATOR)(request, scope=scope)


def api_view(*, methods: tuple[str, ...], scope: str | None = None) -> Callable:
    """JSON API view: token-authenticated, no session, no CSRF (no cookie is ever accepted).

    `scope` defaults to settings.API_SCOPE, read per request.
    """

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in methods:
                response = problem(405, f"Use {', '.join(methods)}.")
                response["Allow"] = ", ".join(methods)
                return response
            try:
                principal = authenticate(request, scope=scope or settings.API_SCOPE)
            except ApiRefused as refused:
                return refused.response
            except cognito.CognitoError as exc:
                logger.warning("API request failed, Cognito unavailable: %s", exc)
                return problem(503, "The sign-in service cannot be reached. Try again shortly.")
            response = view(request, principal, *args, **kwargs)
            response["Cache-Control"] = "no-store"
            return response

        wrapped.bearer_only = True  # session middleware of ours leaves these requests alone
        return login_not_required(csrf_exempt(wrapped))

    return decorator
