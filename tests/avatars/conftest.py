"""Avatars against the local stack over HTTP: signed-in users, S3 as an administrator, call counters."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from botocore.config import Config
from django.conf import settings
from django.test import Client

from profiles import credentials as creds
from profiles.models import Profile
from project.integrations import outbound, s3
from project.integrations.identity_pool import Credentials, identity_pool
from tests.accounts.conftest import (  # noqa: F401 - shared fixtures
    APP_HOST,
    _fresh_cognito_caches,
    app_client,
    idp,
    new_user,
    sign_in,
)
from tests.profiles.conftest import member  # noqa: F401 - shared fixture


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


@pytest.fixture
def keys_under(admin_s3):
    """keys_under(prefix) → every key in the bucket under that prefix."""

    def keys(prefix: str) -> list[str]:
        answer = admin_s3.list_objects_v2(Bucket=settings.AWS_STORAGE_BUCKET_NAME, Prefix=prefix)
        return sorted(o["Key"] for o in answer.get("Contents", []))

    return keys


def s3_as(credentials: Credentials):
    """A plain boto3 S3 client signing with someone's identity credentials (to play them)."""
    return boto3.client(
        "s3",
        region_name=settings.AWS_S3_REGION_NAME,
        endpoint_url=settings.AWS_S3_ENDPOINT_URL,
        aws_access_key_id=credentials.access_key,
        aws_secret_access_key=credentials.secret_key,
        aws_session_token=credentials.session_token,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )


def session_credentials(client: Client) -> Credentials:
    """The identity credentials the app keeps in this browser's session."""
    return Credentials.from_dict(client.session[creds.SESSION_CREDENTIALS])


@pytest.fixture
def person(sign_in, new_user):  # noqa: F811 - the shared fixtures above
    """person(name) → (client signed in through the hosted UI, email): a fresh user each time."""

    def make(name: str = "Avery Tester") -> tuple[Client, str]:
        email, password, _ = new_user(name=name)
        client = Client(HTTP_HOST=APP_HOST)
        response = sign_in(email, password, client=client)
        assert response.status_code == 302, response
        return client, email

    return make


def profile_of(email: str) -> Profile:
    return Profile.objects.get(user__email=email)


@pytest.fixture(autouse=True)
def _fresh_guest_identity():
    """Each test starts without the process's guest credentials and guest URL cache."""
    identity_pool().reset()
    s3.bucket().reset()
    yield


class Calls:
    """Every outbound call: boto3 (any client; operation or S3 method + path) and requests (Cognito)."""

    def __init__(self) -> None:
        self.log: list[str] = []

    def identity_pool(self) -> list[str]:
        return [c for c in self.log if c.startswith("AWSCognitoIdentityService.")]

    def s3(self) -> list[str]:
        return [c for c in self.log if c.startswith("s3 ")]


@contextlib.contextmanager
def count_calls() -> Iterator[Calls]:
    """Record outbound calls, through the integrations' public hook (project.integrations.outbound)."""
    calls = Calls()

    def record(call: outbound.OutboundCall) -> None:
        if call.service == "cognito":
            calls.log.append(f"http {call.url}")
        elif call.operation:
            calls.log.append(call.operation)
        else:
            calls.log.append(f"s3 {call.method} {urlsplit(call.url).path}")

    outbound.add_listener(record)
    try:
        yield calls
    finally:
        outbound.remove_listener(record)


def img_srcs(html: str, testid: str = "avatar") -> list[str]:
    """The src of <img data-testid=...> in a page (HTML-unescaped)."""
    import html as html_lib

    pattern = rf'<img class="avatar" src="([^"]+)"[^>]*data-testid="{re.escape(testid)}"'
    return [html_lib.unescape(src) for src in re.findall(pattern, html)]


def signer_key(url: str) -> str:
    """The access key id that presigned a URL."""
    credential = parse_qs(urlsplit(url).query)["X-Amz-Credential"][0]
    return credential.split("/", 1)[0]
