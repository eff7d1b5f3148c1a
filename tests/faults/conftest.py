"""Faults injected in the local stack (localcloud --faults), not mocked; fixtures from tests.support."""

from __future__ import annotations

import os

import boto3
import pytest
from botocore.config import Config
from django.conf import settings

from project.integrations import s3
from project.integrations.identity_pool import identity_pool


@pytest.fixture(autouse=True)
def _fresh_caches(fresh_cognito_caches: None) -> None:
    """Every test here starts with cold Cognito, guest-identity and URL caches."""
    identity_pool().reset()
    s3.bucket().reset()


@pytest.fixture(scope="session")
def admin_s3():
    """S3 with the local stack's admin key: to look behind the app's back."""
    return boto3.client(
        "s3",
        region_name=settings.AWS_S3_REGION_NAME,
        endpoint_url=settings.AWS_S3_ENDPOINT_URL,
        aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"],
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )
