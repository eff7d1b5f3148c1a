"""The account security page (/account/): one section per topic, each form a POST of its own.

Views parse, call one service of accounts.security, and either redirect back with a message or
render the page again with the form's errors and input (status 400), never a 500.
"""

from __future__ import annotations

import json
import logging
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.contrib import auth, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts import forms, security, selectors, services, sessions
from accounts.reauthentication import requested_action, requires_recent_sign_in
from accounts.views import to_cognito_logout
from project.integrations import cognito

logger = logging.getLogger(__name__)


def _page(request: HttpRequest, status: int = HTTPStatus.OK, **forms_given: Any) -> HttpResponse:
    """The whole page; bound forms passed in keep the user's input and errors."""
    user = request.user
    try:
        state, state_error = security.account_state(session=request.session), ""
    except security.ActionFailed as exc:
        state, state_error = None, exc.message
    email = state.email if state else user.email
    recent = security.recently_signed_in(session=request.session)
    linked = _linked_providers(user)
    context = {
        "state": state,
        "state_error": state_error,
        "totp_setup": security.mfa_setup_current(session=request.session, email=email),
        "totp_verified_not_on": bool(request.session.get(security.TOTP_VERIFIED)),
        "recent": recent,
        # Back from "Sign in again" (`?action=`): that action's control takes the focus.
        "focus": requested_action(request) if recent else "",
        "reauth_minutes": max(settings.ACCOUNT_REAUTH_SECONDS // 60, 1),
        "password_rules": security.password_rules(),
        "sessions": selectors.user_sessions(user=user, current_key=request.session.session_key),
        "pending_email": user.pending_email,
        "linked_providers": linked,
        "can_unlink_any": any(p.can_unlink for p in linked or []),
        # Whether the user pool's own sign-in (a password) is theirs, or only a provider's.
        "has_password": security.has_password(session=request.session, username=user.cognito_username),
        "totp_form": forms.TotpVerifyForm(),
        "password_form": forms.PasswordChangeForm(),
        "email_form": forms.EmailChangeForm(current=user.email),
        "email_code_form": forms.EmailCodeForm(),
        "delete_form": forms.DeleteAccountForm(email=user.email),
        **forms_given,
    }
    _focus_first_field(context, forms_given)
    return render(request, "accounts/account.html", context, status=status)


# The actions whose form starts with a field to fill: it takes the focus (the template gives it to
# the others' buttons). An autofocus attribute, so it works without JavaScript.
_FOCUS_FIELDS = {
    "mfa-verify": ("totp_form", "code"),
    "email": ("email_form", "email"),
    "delete": ("delete_form", "confirm_email"),
}


def _focus_first_field(context: dict[str, Any], forms_given: dict[str, Any]) -> None:
    form_name, field = _FOCUS_FIELDS.get(context["focus"], ("", ""))
    if form_name and form_name not in forms_given:  # a form with errors focuses its error summary
        context[form_name].fields[field].widget.attrs["autofocus"] = True


def _linked_providers(user: Any) -> list[selectors.LinkedProvider] | None:
    """The sign-in methods section's list (issue 11); None when Cognito cannot say."""
    try:
        return selectors.user_linked_providers(user=user)
    except cognito.CognitoError as exc:
        logger.warning("linked providers unavailable: %s", exc)
        return None


def _back(section: str) -> HttpResponseRedirect:
    return HttpResponseRedirect(f"{reverse('account:index')}#{section}")


def _failed(
    request: HttpRequest, exc: security.ActionFailed, form: Any = None, name: str = ""
) -> HttpResponse:
    """The page again, the input kept: the sentence on the field it concerns, else at the top
    (a message, shown whatever state the section is in now: a form may no longer be displayed)."""
    kept = {name: form} if form is not None and name else {}
    if form is not None and exc.field in form.fields:
        form.add_error(exc.field, exc.message)
    else:
        messages.error(request, exc.message)
    return _page(request, HTTPStatus.BAD_REQUEST, **kept)


@never_cache
@require_GET
def account(request: HttpRequest) -> HttpResponse:
    return _page(request)


# --- Authenticator app ---------------------------------------------------------------------------


@require_POST
@requires_recent_sign_in("mfa")
def totp_start(request: HttpRequest) -> HttpResponse:
    try:
        email = security.account_state(session=request.session).email
        security.mfa_setup_start(session=request.session, email=email)
    except security.ActionFailed as exc:
        return _failed(request, exc)
    return _back("mfa")


@require_POST
@requires_recent_sign_in("mfa")
def totp_verify(request: HttpRequest) -> HttpResponse:
    form = forms.TotpVerifyForm(request.POST)
    if not form.is_valid():
        return _page(request, HTTPStatus.BAD_REQUEST, totp_form=form)
    try:
        security.mfa_setup_finish(
            session=request.session,
            setup_id=form.cleaned_data["setup"],
            code=form.cleaned_data["code"],
            device_name=form.cleaned_data["device_name"],
        )
    except security.ActionFailed as exc:
        return _failed(request, exc, form, "totp_form")
    messages.success(request, "Your authenticator app is on: signing in now asks for its code.")
    return _back("mfa")


@require_POST
@requires_recent_sign_in("mfa")
def totp_switch_on(request: HttpRequest) -> HttpResponse:
    try:
        security.mfa_switch_on(session=request.session)
    except security.ActionFailed as exc:
        return _failed(request, exc)
    messages.success(request, "Your authenticator app is on: signing in now asks for its code.")
    return _back("mfa")


@require_POST
@requires_recent_sign_in("mfa")
def totp_remove(request: HttpRequest) -> HttpResponse:
    try:
        security.mfa_disable(session=request.session)
    except security.ActionFailed as exc:
        return _failed(request, exc)
    messages.success(request, "The authenticator app was removed: signing in asks for your password only.")
    return _back("mfa")


# --- Linked providers ----------------------------------------------------------------------------


@require_POST
@requires_recent_sign_in("linked-providers")
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


# --- Password ------------------------------------------------------------------------------------


@require_POST
def password_change(request: HttpRequest) -> HttpResponse:
    form = forms.PasswordChangeForm(request.POST)
    if not form.is_valid():
        return _page(request, HTTPStatus.BAD_REQUEST, password_form=form)
    try:
        ended = security.password_change(
            request=request,
            current=form.cleaned_data["current_password"],
            new=form.cleaned_data["new_password1"],
        )
    except security.ActionFailed as exc:
        return _failed(request, exc, form, "password_form")
    others = f" {ended} other session{'s' if ended != 1 else ''} signed out." if ended else ""
    messages.success(request, f"Your password was changed.{others}")
    return _back("password")


# --- Sessions ------------------------------------------------------------------------------------


@require_POST
def session_end(request: HttpRequest) -> HttpResponse:
    form = forms.SessionEndForm(request.POST)
    key = form.is_valid() and selectors.user_session_key(
        user=request.user, public_id=form.cleaned_data["session"]
    )
    if not key:
        messages.info(request, "That session had already ended.")
        return _back("sessions")
    if key == request.session.session_key:
        messages.info(request, "To end this session, use Sign out.")
        return _back("sessions")
    sessions.user_session_end(user=request.user, session_key=key)
    messages.success(request, "That session was signed out.")
    return _back("sessions")


@require_POST
def sign_out_everywhere(request: HttpRequest) -> HttpResponse:
    try:
        security.sign_out_everywhere(request=request)
    except security.ActionFailed as exc:
        return _failed(request, exc)
    auth.logout(request)
    messages.success(request, "You were signed out of this site in every browser and app.")
    return to_cognito_logout(request)


# --- E-mail --------------------------------------------------------------------------------------


def _nothing_pending(request: HttpRequest) -> HttpResponse:
    messages.info(request, "No change of address is waiting for a code (it may be done already).")
    return _back("email")


@require_POST
def email_change(request: HttpRequest) -> HttpResponse:
    form = forms.EmailChangeForm(request.POST, current=request.user.email)
    if not form.is_valid():
        return _page(request, HTTPStatus.BAD_REQUEST, email_form=form)
    try:
        security.email_change_start(request=request, new_email=form.cleaned_data["email"])
    except security.ActionFailed as exc:
        return _failed(request, exc, form, "email_form")
    messages.success(
        request, "We sent a code to the new address. Your current address works until you enter it."
    )
    return _back("email")


@require_POST
def email_verify(request: HttpRequest) -> HttpResponse:
    if not request.user.pending_email:  # a second tab, or a code used already
        return _nothing_pending(request)
    form = forms.EmailCodeForm(request.POST)
    if not form.is_valid():
        return _page(request, HTTPStatus.BAD_REQUEST, email_code_form=form)
    try:
        security.email_change_verify(request=request, code=form.cleaned_data["code"])
    except security.ActionFailed as exc:
        return _failed(request, exc, form, "email_code_form")
    messages.success(request, "Your e-mail address was changed. Sign in with the new one from now on.")
    return _back("email")


@require_POST
def email_resend(request: HttpRequest) -> HttpResponse:
    if not request.user.pending_email:
        return _nothing_pending(request)
    try:
        security.email_change_resend(request=request)
    except security.ActionFailed as exc:
        return _failed(request, exc)
    messages.success(request, "A new code was sent. Earlier codes no longer work.")
    return _back("email")


@require_POST
def email_cancel(request: HttpRequest) -> HttpResponse:
    if not request.user.pending_email:
        return _nothing_pending(request)
    try:
        security.email_change_cancel(request=request)
    except security.ActionFailed as exc:
        return _failed(request, exc)
    messages.success(request, "The change of address was cancelled.")
    return _back("email")


# --- Delete and export ---------------------------------------------------------------------------


@require_POST
def delete_account(request: HttpRequest) -> HttpResponse:
    form = forms.DeleteAccountForm(request.POST, email=request.user.email)
    if not form.is_valid():
        return _page(request, HTTPStatus.BAD_REQUEST, delete_form=form)
    try:
        security.account_delete(request=request)
    except security.ActionFailed as exc:
        return _failed(request, exc, form, "delete_form")
    auth.logout(request)
    messages.success(request, "Your account was deleted.")
    return to_cognito_logout(request)


@never_cache
@require_GET
def export(request: HttpRequest) -> HttpResponse:
    data = security.account_export(request=request)
    response = HttpResponse(
        json.dumps(data, indent=2, ensure_ascii=False), content_type="application/json; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="my-data.json"'
    return response
