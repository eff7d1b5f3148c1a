"""Keeps Cognito tokens fresh with the refresh token, as the classic hosted UI has no prompt=none."""

from __future__ import annotations

import logging
from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import auth, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import resolve_url

from accounts import services, sessions
from project.integrations import cognito

logger = logging.getLogger(__name__)


class EndedSessionMiddleware:
    """Tells a person whose session an operator ended why they are signed out.

    A disabled account gets the "your account is disabled" page (never a sign-in that cannot
    succeed, which loops through the hosted UI); a session ended by "sign out everywhere" gets a
    message and the usual sign-in. Costs nothing for signed-in users and fresh visitors: it looks
    only at anonymous requests that carry a session cookie. Bearer-only API views (marked
    `bearer_only`) are skipped: they never use the session, and answer a JSON problem themselves.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> HttpResponse | None:
        if getattr(view_func, "bearer_only", False):
            return None
        cookie = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
        if cookie and not request.user.is_authenticated:
            reason = services.session_end_reason(session=request.session, cookie=cookie)
            if reason == services.ENDED_DISABLED:
                return HttpResponseRedirect(resolve_url("accounts:account_disabled"))
            if reason == services.ENDED_SIGNED_OUT:
                messages.info(request, "You have been signed out. Please sign in again.")
        return None


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
            disabled = services.user_disabled_in_pool(user=user)
            auth.logout(request)
            if disabled:  # disabled in Cognito (by us or in its console): say so, no sign-in loop
                return HttpResponseRedirect(resolve_url("accounts:account_disabled"))
            messages.info(request, "Your session has expired. Sign in to continue.")
            query = urlencode({"next": request.get_full_path()}) if request.method == "GET" else ""
            url = resolve_url("accounts:sign_in")
            return HttpResponseRedirect(f"{url}?{query}" if query else url)
        except cognito.CognitoError as exc:
            # Cognito is down or slow: keep the current tokens and try again next request.
            logger.warning("token refresh postponed: %s", exc)
        return None


class SessionActivityMiddleware:
    """Keeps the signed-in session's index row (last seen, browser, address) current, cheaply:
    one UPDATE at most every SESSION_INDEX_TOUCH seconds per session, none for visitors."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> None:
        if getattr(view_func, "bearer_only", False):  # the API never uses the session
            return
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            sessions.session_index_touch(request=request)
