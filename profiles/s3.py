"""Amazon S3, always with identity-pool credentials: storage, presigned GET/POST, bounded reads, deletes.

The one module of the app that talks to S3. Every call is signed with the temporary credentials
of an identity (the user's own, or a guest's), so the identity pool's IAM role policies decide
what is allowed: the app holds no S3 key of its own. The endpoint comes from settings.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from storages.backends.s3 import S3Storage

from accounts.identity_pool import Credentials

# Keys are random and never rewritten: browsers may keep an avatar for as long as its URL lives.
AVATAR_CACHE_CONTROL = "private, max-age=31536000, immutable"
CLIENT_CACHE_SIZE = 256

_lock = threading.Lock()
# Building a client loads botocore's service model (tens of ms): one per set of credentials,
# so presigning on a page view is pure local computation.
_clients: OrderedDict[str, Any] = OrderedDict()
_boto_session: list[boto3.session.Session] = []


class S3Error(Exception):
    """S3 refused the request or could not be reached."""

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.code = code


class ObjectTooLarge(S3Error):
    """The object is larger than the caller's bound."""


def bucket() -> str:
    if not settings.AWS_STORAGE_BUCKET_NAME:
        raise ImproperlyConfigured("AWS_STORAGE_BUCKET_NAME is not set (see .env.example)")
    return settings.AWS_STORAGE_BUCKET_NAME


def client_config() -> Config:
    # SigV4 always: boto3 still presigns with SigV2 in us-east-1, which S3 refuses for new buckets.
    return Config(
        signature_version="s3v4",
        s3={"addressing_style": settings.AWS_S3_ADDRESSING_STYLE},
        connect_timeout=settings.AWS_TIMEOUT,
        read_timeout=settings.AWS_TIMEOUT,
        retries={"max_attempts": 2, "mode": "standard"},
    )


def _session() -> boto3.session.Session:
    if not _boto_session:
        _boto_session.append(boto3.session.Session())
    return _boto_session[0]


def client(credentials: Credentials):
    """An S3 client signing with `credentials` (cached per access key, LRU-bounded)."""
    with _lock:
        found = _clients.get(credentials.access_key)
        if found is not None:
            _clients.move_to_end(credentials.access_key)
            return found
        made = _session().client(
            "s3",
            region_name=settings.AWS_S3_REGION_NAME,
            endpoint_url=settings.AWS_S3_ENDPOINT_URL,
            aws_access_key_id=credentials.access_key,
            aws_secret_access_key=credentials.secret_key,
            aws_session_token=credentials.session_token,
            config=client_config(),
        )
        _clients[credentials.access_key] = made
        while len(_clients) > CLIENT_CACHE_SIZE:
            _clients.popitem(last=False)
        return made


def storage(credentials: Credentials) -> S3Storage:
    """django-storages' S3 storage acting as the identity that owns `credentials`."""
    return S3Storage(
        access_key=credentials.access_key,
        secret_key=credentials.secret_key,
        security_token=credentials.session_token,
        bucket_name=bucket(),
        endpoint_url=settings.AWS_S3_ENDPOINT_URL,
        region_name=settings.AWS_S3_REGION_NAME,
        addressing_style=settings.AWS_S3_ADDRESSING_STYLE,
        signature_version="s3v4",
        client_config=client_config(),
        default_acl=None,
        file_overwrite=True,  # keys are random: skip the existence check (a HEAD per upload)
        querystring_auth=True,
        object_parameters={"CacheControl": AVATAR_CACHE_CONTROL},
        # Two small objects: a transfer thread pool costs more than it saves.
        transfer_config=TransferConfig(use_threads=False),
    )


def _error(exc: Exception, what: str) -> S3Error:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        return S3Error(f"{what}: {code} {error.get('Message', '')}".strip(), code)
    return S3Error(f"{what}: {exc}")


def put(credentials: Credentials, *, key: str, data: bytes, content_type: str) -> None:
    """Write one object through django-storages with the identity's credentials."""
    from django.core.files.base import ContentFile

    store = storage(credentials)
    content = ContentFile(data)
    content.content_type = content_type
    try:
        store.save(key, content)
    except (ClientError, BotoCoreError) as exc:
        raise _error(exc, f"put {key}") from exc


def delete(credentials: Credentials, *, key: str) -> None:
    """Delete one object (absent is fine)."""
    try:
        client(credentials).delete_object(Bucket=bucket(), Key=key)
    except (ClientError, BotoCoreError) as exc:
        raise _error(exc, f"delete {key}") from exc


def get_bounded(credentials: Credentials, *, key: str, max_bytes: int) -> bytes:
    """The object's bytes; ObjectTooLarge past `max_bytes` (never reads more than max + 1)."""
    try:
        answer = client(credentials).get_object(Bucket=bucket(), Key=key)
        body = answer["Body"]
        try:
            data = body.read(max_bytes + 1)
        finally:
            body.close()
    except (ClientError, BotoCoreError) as exc:
        raise _error(exc, f"get {key}") from exc
    if len(data) > max_bytes:
        raise ObjectTooLarge(f"{key} is larger than {max_bytes} bytes", "EntityTooLarge")
    return data


def presign_get(credentials: Credentials, *, key: str, expires_in: int) -> str:
    """A presigned GET URL (local computation: no network)."""
    return client(credentials).generate_presigned_url(
        "get_object", Params={"Bucket": bucket(), "Key": key}, ExpiresIn=expires_in
    )


def presign_post(
    credentials: Credentials, *, key: str, content_type: str, max_bytes: int, expires_in: int
) -> dict[str, Any]:
    """A presigned POST for exactly `key`, one content type and 1..max_bytes (S3 enforces them)."""
    # boto3 adds the {"bucket": ...} and {"key": key} conditions itself.
    return client(credentials).generate_presigned_post(
        bucket(),
        key,
        Fields={"Content-Type": content_type},
        Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, max_bytes]],
        ExpiresIn=expires_in,
    )
