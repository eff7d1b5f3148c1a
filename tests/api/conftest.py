from __future__ import annotations

import pytest

from project.integrations import cognito


@pytest.fixture(autouse=True)
def _fresh_cognito_caches(fresh_cognito_caches: None) -> None:
    """Every test here starts with cold Cognito caches."""


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
