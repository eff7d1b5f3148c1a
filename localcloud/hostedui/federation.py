"""Federated sign-in in the hosted UI (reference-2 §1.3): to the provider and back at /oauth2/idpresponse.

The round trip's ``state`` is Cognito's own: random, single use, 5 minutes, and bound to the browser
that started it by a cookie whose hash the pending record keeps, so a code+state pair lifted from
one browser (or replayed) cannot complete a sign-in in another. The cookie is checked before the
state is used up, so another browser presenting it burns nothing.

Pending round trips are bounded (memory): at most ``max_per_address`` per client address (its
oldest goes first) and ``max_pending`` in all; a full table refuses new round trips rather than
evicting anyone's. So a flood from one address only evicts its own; a flood from many addresses
can delay new sign-ins until its round trips expire (5 minutes), never break one in flight.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Request, Response

from localcloud.hostedui.discovery import base_url
from localcloud.hostedui.flow import AuthorizeRequest, ErrorPage, RedirectError, parse_authorize
from localcloud.hostedui.idpclient import ProviderCall, endpoints
from localcloud.hostedui.web import error_page, redirect
from localcloud.userpool.federation import FederationError, federated_sign_in

ROUND_TRIP_SECONDS = 300  # Cognito drops a round trip after 5 minutes
BINDING_COOKIE = "lc-idp"
CALLBACK_PATH = "/oauth2/idpresponse"
MAX_PENDING = 10_000
MAX_PER_ADDRESS = 20
# Labels of the provider buttons (other providers show their ProviderName).
LABELS = {"Google": "Google", "Facebook": "Facebook", "SignInWithApple": "Apple", "LoginWithAmazon": "Amazon"}


@dataclass
class Pending:
    """A round trip to a provider, waiting for /oauth2/idpresponse."""

    pool_id: str
    params: dict[str, str]  # the app's authorize parameters
    provider: str
    nonce: str
    binding: str  # SHA-256 of the browser's cookie
    expires: float
    address: str  # the client address that started it (the per-address bound)


def provider_buttons(auth: AuthorizeRequest) -> list[dict[str, str]]:
    """The client's providers as sign-in buttons: label and the authorize query that skips to it.
    None for ``identity_provider=COGNITO``: the page is the user pool's own form only."""
    if auth.cognito_only:
        return []
    base = {k: v for k, v in auth.params.items() if k not in ("identity_provider", "idp_identifier")}
    buttons = []
    for name in auth.client.extended_config.get("SupportedIdentityProviders") or []:
        provider = auth.pool.identity_providers.get(name)
        if name == "COGNITO" or provider is None:
            continue
        label = LABELS.get(provider.extended_config.get("ProviderType", ""), name)
        buttons.append(
            {"name": name, "label": label, "query": urlencode({**base, "identity_provider": name})}
        )
    return buttons


class Federation:
    """The start of a round trip (from /oauth2/authorize) and its end (/oauth2/idpresponse)."""

    def __init__(self, finish: Callable[..., Response], lock: threading.RLock,
                 save: Callable[[], None], link_verified_email: bool, timeout: float,
                 limits: tuple[int, int] = (MAX_PENDING, MAX_PER_ADDRESS)) -> None:  # fmt: skip
        """finish: issue the app's code and the hosted session (Pages.finish); limits: pending
        round trips in all and per client address."""
        self.max_pending, self.max_per_address = limits
        self.finish = finish
        self.lock = lock
        self.save = save
        self.link_verified_email = link_verified_email
        self.timeout = timeout
        self._pending: dict[str, Pending] = {}

    # --- to the provider (under the caller's lock) -------------------------------------------
    def start(self, request: Request, auth: AuthorizeRequest, provider_name: str) -> Response:
        """302 to the provider's authorize endpoint with Cognito's own state and nonce."""
        provider = auth.pool.identity_providers[provider_name]
        config = provider.extended_config
        origin = base_url(request)
        try:
            ends = endpoints(config, origin)
        except FederationError as exc:
            return redirect(auth.error(exc.error, exc.description).url)
        address = request.remote_addr or ""
        if not self._make_room(address):
            return redirect(
                auth.error("invalid_request", "Too many sign-ins in progress; try again shortly.").url
            )
        state, nonce, binding = (secrets.token_urlsafe(32) for _ in range(3))
        self._pending[state] = Pending(auth.pool.id, dict(auth.params), provider_name, nonce,
                                       _hash(binding), time.time() + ROUND_TRIP_SECONDS, address)  # fmt: skip
        details = config.get("ProviderDetails") or {}
        query = {"client_id": details.get("client_id", ""), "redirect_uri": origin + CALLBACK_PATH,
                 "response_type": "code", "scope": details.get("authorize_scopes", "openid email"),
                 "state": state}  # fmt: skip
        if ends.style != "facebook":
            query["nonce"] = nonce
        response = redirect(f"{ends.authorize}?{urlencode(query)}")
        response.set_cookie(BINDING_COOKIE, binding, max_age=ROUND_TRIP_SECONDS, httponly=True,
                            samesite="Lax", path=CALLBACK_PATH)  # fmt: skip
        return response

    def _make_room(self, address: str) -> bool:
        """Drop expired round trips and this address's oldest beyond its bound; False when full."""
        now = time.time()
        for key in [k for k, p in self._pending.items() if p.expires < now]:
            del self._pending[key]
        mine = [k for k, p in self._pending.items() if p.address == address]  # oldest first
        for key in mine[: max(0, len(mine) - self.max_per_address + 1)]:
            del self._pending[key]
        return len(self._pending) < self.max_pending

    # --- back from the provider (takes the lock itself: the provider is called without it) -----
    def idpresponse(self, request: Request) -> Response:
        """Check state and browser, redeem the provider's code, sign the user in, 302 to the app."""
        if request.method not in ("GET", "POST"):
            return error_page(request, "Method not allowed.", 405)
        values = request.args if request.method == "GET" else request.form  # Apple may form_post
        with self.lock:
            found = self._take(request, values.get("state", ""))
            if isinstance(found, Response):
                return found
            pending, auth, config = found
        response = self._complete(request, values, pending, auth, config)
        response.delete_cookie(BINDING_COOKIE, path=CALLBACK_PATH)
        return response

    def _take(
        self, request: Request, state: str
    ) -> tuple[Pending, AuthorizeRequest, dict[str, Any]] | Response:
        pending = self._pending.get(state)
        if pending is None or pending.expires < time.time():
            self._pending.pop(state, None)
            return error_page(request, "Something went wrong: this sign-in is unknown, used or expired. "
                                       "Please start again from the application.")  # fmt: skip
        cookie = request.cookies.get(BINDING_COOKIE, "")
        if not hmac.compare_digest(_hash(cookie), pending.binding):
            # Not used up: another browser (or a guess) must not burn the real round trip.
            return error_page(request, "Something went wrong: this sign-in was started in another browser.")
        del self._pending[state]  # single use, whatever comes next
        try:
            auth = parse_authorize(MultiDict(pending.params))
        except ErrorPage as exc:
            return error_page(request, exc.message, exc.status)
        except RedirectError as exc:
            return redirect(exc.url)
        provider = auth.pool.identity_providers.get(pending.provider)
        if provider is None:
            return redirect(auth.error("invalid_request", f"{pending.provider} is not configured").url)
        return pending, auth, dict(provider.extended_config)

    def _complete(self, request: Request, values: MultiDict, pending: Pending, auth: AuthorizeRequest,
                  config: dict[str, Any]) -> Response:  # fmt: skip
        error = values.get("error")
        if error:
            # A provider's error is relayed: error verbatim, provider name prefixed to the description.
            description = values.get("error_description", "")[:300]
            code = error[:64] if error.replace("_", "").isalnum() else "invalid_request"
            return redirect(auth.error(code, f"{pending.provider} Error - {code} {description}".strip()).url)
        code = values.get("code")
        if not code:
            return redirect(auth.error("invalid_request", "The provider returned no code").url)
        origin = base_url(request)
        try:
            call = ProviderCall(pending.provider, config, endpoints(config, origin), self.timeout)
            claims = call.claims(code, origin + CALLBACK_PATH, pending.nonce)  # without the lock
            with self.lock:
                provider = auth.pool.identity_providers.get(pending.provider)
                if provider is None:
                    raise FederationError("invalid_request", f"{pending.provider} is not configured")
                user = federated_sign_in(
                    auth.pool,
                    provider,
                    claims,
                    link_verified_email=self.link_verified_email,
                    client=auth.client,
                )
                response = self.finish(auth, user, federated=True)
                self.save()
                return response
        except FederationError as exc:
            return redirect(auth.error(exc.error, exc.description).url)


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()
