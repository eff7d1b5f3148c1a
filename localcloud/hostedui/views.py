"""The hosted UI: pages (pages.py) and OAuth2 endpoints (oauth.py) over shared stores (stores.py)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from werkzeug.wrappers import Request, Response

from localcloud.config import DEFAULT_CONFIG, Config
from localcloud.hostedui.email_code import EmailCodePages
from localcloud.hostedui.federation import CALLBACK_PATH, Federation
from localcloud.hostedui.oauth import OAuthEndpoints
from localcloud.hostedui.pages import Pages
from localcloud.hostedui.stores import CodeStore, SessionStore
from localcloud.hostedui.web import install_branding


class HostedUI:
    """The hosted UI's handlers by path, and the outbox pages."""

    def __init__(
        self, config: Config, lock: threading.RLock, save: Callable[[], None], *, pool_id: str
    ) -> None:
        """Create the stores with the config's lifetimes and the handlers over them (pool_id: the
        pool this hosted UI's domain belongs to)."""
        install_branding(config.branding, DEFAULT_CONFIG.parent)
        self.codes = CodeStore(config.authorization_code_seconds)
        self.sessions = SessionStore(config.session_seconds)
        self.pages = Pages(self.codes, self.sessions)
        self.oauth = OAuthEndpoints(self.codes, self.sessions, pool_id)
        self.email_code = EmailCodePages(self.pages)
        federation = config.federation
        self.federation = Federation(
            self.pages.finish, lock, save,
            link_verified_email=federation["link_verified_email"], timeout=federation["idp_timeout_seconds"],
            limits=(federation["max_round_trips"], federation["max_round_trips_per_address"]),
        )  # fmt: skip
        self.pages.federation = self.federation

    def routes(self) -> dict[str, Any]:
        """Path → handler (under localcloud's lock)."""
        return {**self.pages.routes(), **self.oauth.routes(), **self.email_code.routes()}

    def unlocked_routes(self) -> dict[str, Any]:
        """Path → handler that takes the lock itself (it calls a provider over HTTP in between)."""
        return {CALLBACK_PATH: self.federation.idpresponse}

    def outbox_page(self, request: Request) -> Response:
        """/_outbox: the messages as HTML."""
        return self.pages.outbox_page(request)

    def outbox_json(self, request: Request) -> Response:
        """/_outbox.json: the messages, newest first."""
        return self.pages.outbox_json(request)
