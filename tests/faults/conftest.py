"""Faults injected in the local stack (localcloud --faults), not mocked; fixtures from tests.support."""

from __future__ import annotations

import pytest

from project.integrations import s3
from project.integrations.identity_pool import identity_pool
from tests.support.avatars import operator_s3


@pytest.fixture(autouse=True)
def _fresh_caches(fresh_cognito_caches: None) -> None:
    """Every test here starts with cold Cognito, guest-identity and URL caches."""
    identity_pool().reset()
    s3.bucket().reset()


@pytest.fixture(scope="session")
def admin_s3():
    """S3 with the local stack's operator key: to look behind the app's back."""
    return operator_s3()
