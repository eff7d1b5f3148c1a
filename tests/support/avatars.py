"""Avatars from the outside: S3 as someone, the session's credentials, uploads, outbound-call counts."""

from __future__ import annotations

import contextlib
import html as html_lib
import json
import os
import re
from collections.abc import Iterator
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

import boto3
import requests
from botocore.config import Config
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from profiles import credentials as creds
from profiles.models import Profile
from project.integrations import outbound
from project.integrations.identity_pool import Credentials

# The app's origin, as a browser posting to S3 from its pages sends it.
ORIGIN = "http://localhost:8000"


def operator_s3():
    """S3 with the local stack's operator key (from the test env): to look behind the app's back."""
    return boto3.client(
        "s3",
        region_name=settings.AWS_S3_REGION_NAME,
        endpoint_url=settings.AWS_S3_ENDPOINT_URL,
        aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"],
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )


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


def profile_of(email: str) -> Profile:
    """The profile of the app user with this e-mail."""
    return Profile.objects.get(user__email=email)


def upload(client: Client, data: bytes, name: str = "me.jpg", content_type: str = "image/jpeg"):
    """Post a picture through the avatar form (no JavaScript)."""
    return client.post("/me/avatar/", {"image": SimpleUploadedFile(name, data, content_type=content_type)})


def post_json(client: Client, path: str, body: dict):
    """POST a JSON body to the app."""
    return client.post(path, json.dumps(body), content_type="application/json")


def start_direct_upload(client: Client, content_type: str = "image/png") -> dict:
    """Ask the app for a presigned POST (the first step of the JavaScript upload)."""
    response = post_json(client, "/me/avatar/upload/", {"content_type": content_type})
    assert response.status_code == HTTPStatus.OK, response.content
    return response.json()


def post_to_s3(presigned: dict, content: bytes, **fields) -> requests.Response:
    """Submit a presigned POST as a browser does: fields, then the file."""
    data = {**presigned["fields"], **fields}
    return requests.post(
        presigned["url"], data=data, files={"file": ("f", content)}, headers={"Origin": ORIGIN}, timeout=10
    )


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
    pattern = rf'<img class="avatar" src="([^"]+)"[^>]*data-testid="{re.escape(testid)}"'
    return [html_lib.unescape(src) for src in re.findall(pattern, html)]


def signer_key(url: str) -> str:
    """The access key id that presigned a URL."""
    credential = parse_qs(urlsplit(url).query)["X-Amz-Credential"][0]
    return credential.split("/", 1)[0]
