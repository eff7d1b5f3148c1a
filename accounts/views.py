"""Sign-in pages and the OIDC views of mozilla-django-oidc, extended for the Cognito hosted UI."""

from __future__ import annotations

import logging
from http import HTTPStatus
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import auth, messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_POST
from mozilla_django_oidc.views import (
    OIDCAuthenticationCallbackView,
    OIDCAuthenticationRequestView,
    get_next_url,
)

from accounts import selectors, services
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


@method_decorator([login_not_required, never_cache], name="dispatch")
class CognitoAuthenticationRequestView(OIDCAuthenticationRequestView):
    """Starts the code flow (state, nonce, PKCE S256) at /oauth2/authorize or a hosted page."""

    # None: the authorize endpoint; else a hosted-UI page that takes the same parameters.
    hosted_page: str | None = None

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
            return super().get(request)
        except cognito.CognitoError as exc:
            logger.warning("cannot start sign-in: %s", exc)
            return sign_in_failed(
                request, "The sign-in service cannot be reached.", HTTPStatus.SERVICE_UNAVAILABLE
            )


@method_decorator([login_not_required, never_cache], name="dispatch")
class CognitoAuthenticationCallbackView(OIDCAuthenticationCallbackView):
    """Cognito's redirect back: the code is exchanged and the ID token checked by the backend."""

    def get(self, request: HttpRequest) -> HttpResponse:
        error = request.GET.get("error")
        if request.user.is_authenticated and request.GET.get("state") not in request.session.get(
            "oidc_states", {}
        ):
            # The callback visited again (Back, a reload, a bookmark) by someone signed in: no sign-in
            # is pending, and nothing failed. No side effects either way.
            messages.info(request, "You are already signed in.")
            return redirect(settings.LOGIN_REDIRECT_URL)
        if error and request.GET.get("state") not in request.session.get("oidc_states", {}):
            # Not an answer to a sign-in this browser started: no side effects (no sign-out).
            return sign_in_failed(request, CALLBACK_ERRORS.get(error, "The sign-in did not complete."))
        if error:
            logger.info(
                "hosted UI returned error=%s (%s)", error[:64], request.GET.get("error_description", "")[:200]
            )
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
        return HttpResponseRedirect(self.success_url)

    @property
    def success_url(self) -> str:
        # Sanitised by get_next_url() when the sign-in started.
        return self.request.session.get("oidc_login_next") or resolve_url(settings.LOGIN_REDIRECT_URL)


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
    logout_uri = settings.COGNITO_LOGOUT_URI or request.build_absolute_uri(
        resolve_url(settings.LOGOUT_REDIRECT_URL)
    )
    try:
        return HttpResponseRedirect(cognito.user_pool().logout_url(logout_uri))
    except cognito.CognitoError as exc:
        logger.warning("cannot reach Cognito's /logout: %s", exc)
        return redirect(settings.LOGOUT_REDIRECT_URL)


@require_POST
@csrf_protect
def unlink_provider(request: HttpRequest) -> HttpResponse:
    """Unlink one external provider from the signed-in user's account (the account page's form)."""
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):  # fmt: skip
        next_url = resolve_url(settings.LOGIN_REDIRECT_URL)
    provider = request.POST.get("provider", "")[:64]
    try:
        services.user_unlink_provider(user=request.user, provider_name=provider)
    except services.UnlinkRefused:
        messages.error(request, "That sign-in method cannot be removed: it is your only way to sign in.")
    except cognito.CognitoError as exc:
        logger.warning("unlinking %s failed: %s", provider, exc)
        messages.error(
            request, "The sign-in service cannot be reached; nothing was changed. Try again later."
        )
    else:
        label = selectors.PROVIDER_LABELS.get(provider, provider)
        messages.success(
            request,
            f"{label} no longer signs you in to this account. Signing in with {label} again makes a "
            "separate account: it cannot be added back to this one.",
        )
    return redirect(next_url)


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
