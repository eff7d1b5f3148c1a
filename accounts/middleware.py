"""Keeps Cognito tokens fresh with the refresh token, as the classic hosted UI has no prompt=none."""

from __future__ import annotations

import logging
from collections.abc import Callable
from urllib.parse import urlencode

from django.contrib import auth, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import resolve_url

from accounts import services
from project.integrations import cognito

logger = logging.getLogger(__name__)


class TokenRefreshMiddleware:
    """Renews the tokens shortly before they expire; ends the session if Cognito refuses.

    Bearer-only API views (marked `bearer_only`) are skipped: they never use the session.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> HttpResponse | None:
        if getattr(view_func, "bearer_only", False):
            return None
        user = getattr(request, "user", None)
        if (
            user is None
            or not user.is_authenticated
            or not services.session_tokens_need_refresh(session=request.session)
        ):
            return None
        try:
            services.session_refresh_tokens(session=request.session, user=user)
        except services.SessionEnded as exc:
            logger.info("session of user %s ended: refresh refused (%s)", user.pk, exc)
            auth.logout(request)
            messages.info(request, "Your session has expired. Sign in to continue.")
            query = urlencode({"next": request.get_full_path()}) if request.method == "GET" else ""
            url = resolve_url("accounts:sign_in")
            return HttpResponseRedirect(f"{url}?{query}" if query else url)
        except cognito.CognitoError as exc:
            # Cognito is down or slow: keep the current tokens and try again next request.
            logger.warning("token refresh postponed: %s", exc)
        return None
