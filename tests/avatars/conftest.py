"""Avatars against the local stack over HTTP: signed-in users, S3 as an administrator, fresh guests."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from project.integrations import s3
from project.integrations.identity_pool import identity_pool
from tests.support.avatars import operator_s3
from tests.support.hosted_ui import APP_HOST


@pytest.fixture(autouse=True)
def _fresh_cognito_caches(fresh_cognito_caches: None) -> None:
    """Every test here starts with cold Cognito caches."""


@pytest.fixture(scope="session")
def admin_s3():
    """S3 with the local stack's operator key: to look behind the app's back."""
    return operator_s3()


@pytest.fixture
def keys_under(admin_s3):
    """keys_under(prefix) → every key in the bucket under that prefix."""

    def keys(prefix: str) -> list[str]:
        answer = admin_s3.list_objects_v2(Bucket=settings.AWS_STORAGE_BUCKET_NAME, Prefix=prefix)
        return sorted(o["Key"] for o in answer.get("Contents", []))

    return keys


@pytest.fixture
def person(sign_in, new_user):
    """person(name) → (client signed in through the hosted UI, email): a fresh user each time."""

    def make(name: str = "Avery Tester") -> tuple[Client, str]:
        email, password, _ = new_user(name=name)
        client = Client(HTTP_HOST=APP_HOST)
        response = sign_in(email, password, client=client)
        assert response.status_code == 302, response
        return client, email

    return make


@pytest.fixture(autouse=True)
def _fresh_guest_identity():
    """Each test starts without the process's guest credentials and guest URL cache."""
    identity_pool().reset()
    s3.bucket().reset()
    yield
