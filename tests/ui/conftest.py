"""The whole site in Chromium at phone, tablet and desktop widths."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _fresh_cognito_caches(fresh_cognito_caches: None) -> None:
    """Every test here starts with cold Cognito caches."""
