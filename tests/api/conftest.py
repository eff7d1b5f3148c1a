from __future__ import annotations

import pytest

from project.integrations import cognito
from tests.accounts.conftest import (  # noqa: F401 - shared fixtures
    _fresh_cognito_caches,
    app_client,
    idp,
    new_user,
    sign_in,
)
from tests.profiles.conftest import handle_taken_meanwhile  # noqa: F401 - shared fixture


@pytest.fixture
def alice_token() -> str:
    """A real access token from the local pool (InitiateAuth: scope aws.cognito.signin.user.admin)."""
    return cognito.user_pool().password_sign_in(username="alice@example.com", password="Alice-pass-1")[
        "AccessToken"
    ]


@pytest.fixture
def api(client):
    """api(method, path, token=None, **kwargs) → response, with a Bearer header when a token is given."""

    def call(method: str, path: str, token: str | None = None, headers: dict | None = None, **kwargs):
        headers = dict(headers or {})
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return getattr(client, method.lower())(path, headers=headers, **kwargs)

    return call
