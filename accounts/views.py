"""Sign-in pages and the OIDC views of mozilla-django-oidc, extended for the Cognito hosted UI."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from django.conf import settings
from django.contrib import auth, messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_POST
from mozilla_django_oidc.views import (
    OIDCAuthenticationCallbackView,
    OIDCAuthenticationRequestView,
    get_next_url,
)

from accounts import security, selectors, services
from project.integrations import cognito

logger = logging.getLogger(__name__)

# What Cognito's `error` parameter means to the person in front of the screen.
CALLBACK_ERRORS = {
    "access_denied": "Sign-in was cancelled or refused.",
    "user_cancelled_authorize": "Sign-in was cancelled.",  # Sign in with Apple's cancel
    "invalid_request": "The sign-in request was not accepted.",
    "unauthorized_client": "This application may not sign you in this way.",
    "invalid_scope": "The sign-in request asked for something not allowed.",
    "server_error": "The sign-in service had a problem.",
}


def sign_in_failed(request: HttpRequest, reason: str, status: int = HTTPStatus.BAD_REQUEST) -> HttpResponse:
    """A friendly page with a way to try again; never a stack trace."""
    return render(request, "accounts/sign_in_failed.html", {"reason": reason}, status=status)


@login_not_required
@never_cache
def sign_in(request: HttpRequest) -> HttpResponse:
    """Where a page that needs a signed-in user sends a visitor ("sign in to continue"), and the
    choice of providers ("Try another way"). The header's and home's "Sign in" skip it: one click
    to the hosted page. Without a page to continue to or providers to offer, it redirects there.
    """
    next_url = get_next_url(request, "next")
    if request.user.is_authenticated:
        return redirect(next_url or settings.LOGIN_REDIRECT_URL)
    query = f"?{urlencode({'next': next_url})}" if next_url else ""
    providers = selectors.identity_provider_buttons(next_url=next_url)
    if not next_url and not providers:
        # Nothing to explain and nothing to choose: straight on to the hosted page.
        return redirect(reverse("oidc_authentication_init"))
    context = {"query": query, "providers": providers, "to_continue": bool(next_url)}
    return render(request, "accounts/sign_in.html", context)


# What a sign-in in progress keeps next to its state, nonce and PKCE verifier in mozilla-django-oidc's
# `oidc_states` (keyed by state): where to go after it, and whether it is a "sign in again". Kept per
# state, not per session, so a sign-in started in one tab never lands on another tab's page.
STATE_NEXT = "next"
STATE_REAUTHENTICATION = "reauthentication"


def _state_of(response: HttpResponse) -> str | None:
    """The `state` of the authorize redirect the base view built."""
    values = parse_qs(urlsplit(response.get("Location", "")).query).get("state")
    return values[0] if values else None


def pending_sign_in(request: HttpRequest, state: str | None) -> dict[str, Any] | None:
    """The entry of `oidc_states` for this state (a sign-in this browser started), if any."""
    states = request.session.get("oidc_states")
    entry = states.get(state) if isinstance(states, dict) and state else None
    return entry if isinstance(entry, dict) else None


@method_decorator([login_not_required, never_cache], name="dispatch")
class CognitoAuthenticationRequestView(OIDCAuthenticationRequestView):
    """Starts the code flow (state, nonce, PKCE S256) at /oauth2/authorize or a hosted page."""

    # None: the authorize endpoint; else a hosted-UI page that takes the same parameters.
    hosted_page: str | None = None
    # A "sign in again" of a signed-in user (accounts/reauthentication.py): a cancel keeps them in.
    reauthentication = False

    def next_url(self, request: HttpRequest) -> str | None:
        """Where the sign-in goes afterwards: a `next` of this site (mozilla-django-oidc's check)."""
        return get_next_url(request, "next")

    def __init__(self, **kwargs) -> None:
        # The base class reads the endpoint from settings at construction; ours is discovered.
        super(OIDCAuthenticationRequestView, self).__init__(**kwargs)
        self.OIDC_RP_CLIENT_ID = settings.COGNITO_CLIENT_ID

    def get_extra_params(self, request: HttpRequest) -> dict[str, str]:
        """``identity_provider=`` goes to Cognito only for a provider on the allow-list, which
        then sends the browser straight to it; any other value is dropped (the hosted page)."""
        params = dict(super().get_extra_params(request))
        provider = request.GET.get("identity_provider")
        if provider and provider in settings.COGNITO_IDENTITY_PROVIDERS and not self.hosted_page:
            params["identity_provider"] = provider
        return params

    @property
    def OIDC_OP_AUTH_ENDPOINT(self) -> str:  # noqa: N802 - the base class's attribute name
        if self.hosted_page:
            return cognito.hosted_page_url(self.hosted_page)
        return cognito.user_pool().endpoint("authorization_endpoint")

    def get(self, request: HttpRequest) -> HttpResponse:
        try:
            response = super().get(request)
        except cognito.CognitoError as exc:
            logger.warning("cannot start sign-in: %s", exc)
            return sign_in_failed(
                request, "The sign-in service cannot be reached.", HTTPStatus.SERVICE_UNAVAILABLE
            )
        # The base class keeps one `oidc_login_next` per session: ours goes with the state instead.
        request.session.pop("oidc_login_next", None)
        entry = pending_sign_in(request, _state_of(response))
        if entry is not None:
            entry[STATE_NEXT] = self.next_url(request)
            entry[STATE_REAUTHENTICATION] = self.reauthentication and request.user.is_authenticated
            request.session.modified = True
        return response


@method_decorator([login_not_required, never_cache], name="dispatch")
class CognitoAuthenticationCallbackView(OIDCAuthenticationCallbackView):
    """Cognito's redirect back: the code is exchanged and the ID token checked by the backend."""

    def get(self, request: HttpRequest) -> HttpResponse:
        error = request.GET.get("error")
        state = request.GET.get("state")
        pending = pending_sign_in(request, state)
        if request.user.is_authenticated and pending is None:
            # The callback visited again (Back, a reload, a bookmark) by someone signed in: no sign-in
            # is pending, and nothing failed. No side effects either way.
            messages.info(request, "You are already signed in.")
            return redirect(settings.LOGIN_REDIRECT_URL)
        if error and pending is None:
            # Not an answer to a sign-in this browser started: no side effects (no sign-out).
            return sign_in_failed(request, CALLBACK_ERRORS.get(error, "The sign-in did not complete."))
        # Read now: the base class drops the state's entry before it signs anyone in.
        self._next = pending.get(STATE_NEXT) if pending else None
        self._reauthentication = bool(pending and pending.get(STATE_REAUTHENTICATION))
        if error:
            logger.info(
                "hosted UI returned error=%s (%s)", error[:64], request.GET.get("error_description", "")[:200]
            )
            if self._reauthentication and request.user.is_authenticated:
                return self.reauthentication_cancelled(state)
        try:
            response = super().get(request)
        except SuspiciousOperation as exc:
            logger.warning("sign-in refused: %s", exc)
            return sign_in_failed(request, "The sign-in could not be verified.")
        except cognito.TokenRejected as exc:
            logger.warning("token endpoint refused the code: %s", exc)
            return sign_in_failed(request, "The sign-in has expired or was already used.")
        except cognito.CognitoError as exc:
            logger.warning("sign-in failed, Cognito unavailable: %s", exc)
            return sign_in_failed(
                request, "The sign-in service cannot be reached.", HTTPStatus.SERVICE_UNAVAILABLE
            )
        if getattr(self, "_failed", False):
            reason = CALLBACK_ERRORS.get(error or "", "The sign-in did not complete.")
            return sign_in_failed(request, reason)
        return response

    def reauthentication_cancelled(self, state: str | None) -> HttpResponse:
        """Cancelled (or refused) at the provider or the hosted UI during "sign in again": the
        person is still signed in as before (the base class would sign them out). The state is
        used up all the same (no replay)."""
        states = self.request.session["oidc_states"]
        states.pop(state, None)
        self.request.session.modified = True
        messages.info(self.request, "Signing in again was cancelled; nothing changed.")
        return HttpResponseRedirect(self.success_url)

    def login_failure(self) -> HttpResponse:
        user = getattr(self, "user", None)
        if user is not None and not user.is_active:
            # Cognito let them in, this site has the account disabled: say so, and stop here
            # (a "try again" would sign the same person straight back in through the hosted UI).
            logger.info("sign-in of disabled user %s refused", user.pk)
            return account_disabled_page(self.request)
        self._failed = True
        return HttpResponse(status=HTTPStatus.BAD_REQUEST)

    def login_success(self) -> HttpResponse:
        request_user = getattr(self.request, "user", None)
        if not request_user or not request_user.is_authenticated or request_user != self.user:
            auth.login(self.request, self.user)  # flushes or cycles the session first
        # Only now, with the sign-in accepted, do the new tokens enter the session.
        self.request.session.update(self.request.cognito_tokens)
        if getattr(self, "_reauthentication", False) and security.signed_in_through_linked_provider(
            session=self.request.session
        ):
            messages.warning(
                self.request,
                "Signing in with a linked provider does not ask for your authenticator code, so it "
                "does not confirm it is you: sign in again with your password.",
            )
        return HttpResponseRedirect(self.success_url)

    @property
    def success_url(self) -> str:
        # The target kept with this sign-in's state, sanitised when the sign-in started.
        return getattr(self, "_next", None) or resolve_url(settings.LOGIN_REDIRECT_URL)


def account_disabled_page(request: HttpRequest, status: int = HTTPStatus.FORBIDDEN) -> HttpResponse:
    return render(request, "accounts/account_disabled.html", status=status)


@login_not_required
@never_cache
def account_disabled(request: HttpRequest) -> HttpResponse:
    """Where an operator's "disable" leaves the person: signed out, and told why."""
    return account_disabled_page(request, HTTPStatus.OK)


@login_not_required
@never_cache
def sign_in_failed_view(request: HttpRequest) -> HttpResponse:
    return sign_in_failed(request, "The sign-in did not complete.", HTTPStatus.OK)


@login_not_required
@require_POST
@csrf_protect
def sign_out(request: HttpRequest) -> HttpResponse:
    """Flush the session, revoke the refresh token, then end the hosted-UI session too."""
    refresh_token = request.session.get(services.REFRESH_TOKEN)
    was_cognito = request.user.is_authenticated and refresh_token is not None
    auth.logout(request)
    # Stored in the new session's cookie: shown when Cognito's /logout sends the browser back.
    messages.success(request, "You are signed out.")
    if not was_cognito:
        return redirect(settings.LOGOUT_REDIRECT_URL)
    services.sign_out(refresh_token=refresh_token)
    return to_cognito_logout(request)


def to_cognito_logout(request: HttpRequest) -> HttpResponse:
    """End the hosted-UI session too (its cookie survives GlobalSignOut and a revoked token)."""
    logout_uri = settings.COGNITO_LOGOUT_URI or request.build_absolute_uri(
        resolve_url(settings.LOGOUT_REDIRECT_URL)
    )
    try:
        return HttpResponseRedirect(cognito.user_pool().logout_url(logout_uri))
    except cognito.CognitoError as exc:
        logger.warning("cannot reach Cognito's /logout: %s", exc)
        return redirect(settings.LOGOUT_REDIRECT_URL)


@login_not_required
@never_cache
def admin_login(request: HttpRequest) -> HttpResponse:
    """The Django admin signs in through Cognito too."""
    next_url = get_next_url(request, "next") or reverse("admin:index")
    if request.user.is_authenticated:
        if request.user.is_staff:
            return redirect(next_url)
        # Redirecting again would loop: Cognito would sign the same person straight back in.
        return render(request, "accounts/no_admin_access.html", status=HTTPStatus.FORBIDDEN)
    return redirect(f"{reverse('oidc_authentication_init')}?{urlencode({'next': next_url})}")
