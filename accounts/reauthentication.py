"""Re-authentication for the account page's dangerous actions, as GitHub's "sudo mode" does it.

An action behind a recent sign-in (the ID token's `auth_time` within ACCOUNT_REAUTH_SECONDS) is
offered as a "Sign in again" link while the sign-in is older. That link goes through the hosted UI
afresh (`ReauthenticateView`) and comes back to the account page with the action named in the query
(`/account/?action=delete`), where that action's form is shown with its first control focused. It
is never submitted for the person: a link (a GET anyone can make a browser follow) must not be able
to delete an account or remove a second factor, so the last step is always their own click.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Concatenate, ParamSpec
from urllib.parse import urlencode, urlsplit

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.urls import reverse

from accounts import security
from accounts.views import CognitoAuthenticationRequestView

# The query parameter naming the action to come back to.
ACTION_PARAM = "action"

# The account page's actions behind a recent sign-in. A closed list: only these come back from the
# hosted UI, and the page focuses only the one asked for (never another: if the state changed
# meanwhile, e.g. another tab turned MFA on, "set up" does not become a focused "remove").
ACTIONS = frozenset({"mfa-start", "mfa-verify", "mfa-switch-on", "mfa-remove", "email", "delete", "unlink"})

# The ids of the account page's sections: the fragments a return target may keep.
SECTIONS = frozenset({"mfa", "password", "sessions", "email", "linked-providers", "data", "delete"})

P = ParamSpec("P")
View = Callable[Concatenate[HttpRequest, P], HttpResponse]


def requires_recent_sign_in(section: str) -> Callable[[View[P]], View[P]]:
    """Run the view only for a sign-in younger than ACCOUNT_REAUTH_SECONDS; for an older one, back to
    the account page's `section` with a message (the section shows the "Sign in again" link).

    The services check again (`security.require_recent_sign_in`): this is the view's answer to a
    stale session, not the only guard.
    """
    if section not in SECTIONS:
        raise ValueError(f"{section!r} is not a section of the account page")

    def decorator(view: View[P]) -> View[P]:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
            if not security.recently_signed_in(session=request.session):
                messages.info(request, security.SIGN_IN_AGAIN)
                return HttpResponseRedirect(f"{reverse('account:index')}#{section}")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def return_target(next_url: str | None) -> str:
    """Where "Sign in again" comes back to: the account page, keeping from `next_url` only an action
    of ACTIONS or else a fragment of SECTIONS. Anything else (another site, `//host`, `/\\host`,
    another path of this one) gives the page itself: the target is built from those parts, never
    echoed, so it cannot point anywhere but the account page.

    An action drops the fragment: a fragment naming an element cancels `autofocus` (HTML's "flush
    autofocus candidates"; Chromium does so), and the focused control is scrolled to anyway.
    """
    index = reverse("account:index")
    try:
        parts = urlsplit(next_url or "")
    except ValueError:  # e.g. an unclosed "[" where an IPv6 host would be
        return index
    if parts.scheme or parts.netloc or parts.path != index:
        return index
    action = QueryDict(parts.query).get(ACTION_PARAM, "")
    if action in ACTIONS:
        return f"{index}?{urlencode({ACTION_PARAM: action})}"
    return f"{index}#{parts.fragment}" if parts.fragment in SECTIONS else index


def requested_action(request: HttpRequest) -> str:
    """The action the account page was asked to open (`?action=`), if it is one of ACTIONS."""
    action = request.GET.get(ACTION_PARAM, "")
    return action if action in ACTIONS else ""


class ReauthenticateView(CognitoAuthenticationRequestView):
    """Sign in again: Cognito's /logout with the authorize parameters ends the hosted-UI session and
    shows its sign-in page, whose answer comes back to /oidc/callback/ and then to `return_target`
    (kept with the sign-in's state: another tab's sign-in never lands here).

    A user with a password gets `identity_provider=COGNITO`: only the user pool's own form, which
    asks for the authenticator code too; a linked provider would not (Cognito asks federated sign-ins
    for no second factor), and `security.recently_signed_in` does not count one for such a user
    either, should the query be edited. A user whom only a provider signs in goes through it.
    """

    hosted_page = "logout"
    reauthentication = True

    def next_url(self, request: HttpRequest) -> str:
        # Replaces mozilla-django-oidc's check (any path of this host) with the narrower one above.
        return return_target(request.GET.get("next"))

    def get_extra_params(self, request: HttpRequest) -> dict[str, str]:
        params = super().get_extra_params(request)
        user = request.user
        if user.is_authenticated and security.has_password(
            session=request.session, username=user.cognito_username
        ):
            params["identity_provider"] = "COGNITO"
        return params
