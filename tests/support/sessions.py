"""A signed-in browser's state, as the account tests read and age it: signed in here, refresh token
alive at Cognito, sign-in old enough to need "sign in again"."""

from __future__ import annotations

import time
from http import HTTPStatus
from importlib import import_module
from typing import Any

import requests
from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.test import Client

from accounts import services
from project.integrations import cognito


def signed_in(client: Client) -> bool:
    """Whether the browser's next request is still signed in (a page that needs it answers 200)."""
    return client.get("/me/").status_code == HTTPStatus.OK


def refresh_works(refresh_token: str) -> bool:
    """Whether Cognito's token endpoint still accepts the refresh token (not revoked, not signed out)."""
    response = requests.post(
        cognito.user_pool().endpoint("token_endpoint"),
        data={"grant_type": "refresh_token", "refresh_token": refresh_token},
        auth=(settings.COGNITO_CLIENT_ID, settings.COGNITO_CLIENT_SECRET),
        timeout=10,
    )
    return response.status_code == HTTPStatus.OK


def _age(session: SessionBase) -> None:
    session[services.AUTH_TIME] = int(time.time()) - settings.ACCOUNT_REAUTH_SECONDS - 60
    session.save()


def make_stale(client: Client) -> None:
    """The last sign-in was long ago (auth_time older than ACCOUNT_REAUTH_SECONDS)."""
    _age(client.session)


def make_stale_in(context: Any) -> None:
    """make_stale for a Playwright browser context: its session cookie names the stored session."""
    [key] = [c["value"] for c in context.cookies() if c["name"] == settings.SESSION_COOKIE_NAME]
    _age(import_module(settings.SESSION_ENGINE).SessionStore(session_key=key))
