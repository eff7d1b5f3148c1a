"""Amazon S3, always with identity-pool credentials: storage, presigned GET/POST, bounded reads, deletes.

The one module of the app that talks to S3. Every call is signed with the temporary credentials
of an identity (the user's own, or a guest's), so the identity pool's IAM role policies decide
what is allowed: the app holds no S3 key of its own. The endpoint comes from settings.
`bucket()` is the process's one `S3Bucket`.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from storages.backends.s3 import S3Storage

from project.integrations import outbound
from project.integrations.identity_pool import Credentials

# Keys are random and never rewritten: browsers may keep an avatar for as long as its URL lives.
AVATAR_CACHE_CONTROL = "private, max-age=31536000, immutable"
CLIENT_CACHE_SIZE = 256
URL_CACHE_SIZE = 10_000


class S3Error(Exception):
    """S3 refused the request or could not be reached."""

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.code = code


class ObjectTooLarge(S3Error):
    """The object is larger than the caller's bound."""


def bucket_name() -> str:
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


def _error(exc: Exception, what: str) -> S3Error:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        return S3Error(f"{what}: {code} {error.get('Message', '')}".strip(), code)
    return S3Error(f"{what}: {exc}")


class _ObservedS3Storage(S3Storage):
    """django-storages' S3 storage whose (per-thread) client reports its calls to `outbound`."""

    @property
    def connection(self) -> Any:
        connection = super().connection
        outbound.observe_client(connection.meta.client)
        return connection


class S3Bucket:
    """The avatars bucket, reached with identity-pool credentials; clients and URLs cached.

    Building a client loads botocore's service model (tens of ms), so there is one per set of
    credentials (LRU-bounded), all from one boto3 session: presigning on a page view is pure
    local computation. `cached_presign_get` also reuses presigned URLs while they stay valid
    (bounded), so the same viewer gets the same URL and browsers' caches hit. Thread-safe.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._session: boto3.session.Session | None = None
        self._clients: OrderedDict[str, Any] = OrderedDict()
        self._urls: OrderedDict[tuple[str, str], tuple[str, float]] = OrderedDict()

    def reset(self) -> None:
        """Forget the clients and presigned URLs (tests; after settings change)."""
        with self._lock:
            self._session = None
            self._clients.clear()
            self._urls.clear()

    def client(self, credentials: Credentials) -> Any:
        """An S3 client signing with `credentials` (cached per access key, LRU-bounded)."""
        with self._lock:
            found = self._clients.get(credentials.access_key)
            if found is not None:
                self._clients.move_to_end(credentials.access_key)
                return found
            if self._session is None:
                self._session = boto3.session.Session()
            made = self._session.client(
                "s3",
                region_name=settings.AWS_S3_REGION_NAME,
                endpoint_url=settings.AWS_S3_ENDPOINT_URL,
                aws_access_key_id=credentials.access_key,
                aws_secret_access_key=credentials.secret_key,
                aws_session_token=credentials.session_token,
                config=client_config(),
            )
            self._clients[credentials.access_key] = outbound.observe_client(made)
            while len(self._clients) > CLIENT_CACHE_SIZE:
                self._clients.popitem(last=False)
            return made

    def storage(self, credentials: Credentials) -> S3Storage:
        """django-storages' S3 storage acting as the identity that owns `credentials`."""
        return _ObservedS3Storage(
            access_key=credentials.access_key,
            secret_key=credentials.secret_key,
            security_token=credentials.session_token,
            bucket_name=bucket_name(),
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

    def put(self, credentials: Credentials, *, key: str, data: bytes, content_type: str) -> None:
        """Write one object through django-storages with the identity's credentials."""
        content = ContentFile(data)
        content.content_type = content_type
        try:
            self.storage(credentials).save(key, content)
        except (ClientError, BotoCoreError) as exc:
            raise _error(exc, f"put {key}") from exc

    def delete(self, credentials: Credentials, *, key: str) -> None:
        """Delete one object (absent is fine)."""
        try:
            self.client(credentials).delete_object(Bucket=bucket_name(), Key=key)
        except (ClientError, BotoCoreError) as exc:
            raise _error(exc, f"delete {key}") from exc

    def get_bounded(self, credentials: Credentials, *, key: str, max_bytes: int) -> bytes:
        """The object's bytes; ObjectTooLarge past `max_bytes` (never reads more than max + 1)."""
        try:
            answer = self.client(credentials).get_object(Bucket=bucket_name(), Key=key)
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

    def presign_get(self, credentials: Credentials, *, key: str, expires_in: int) -> str:
        """A presigned GET URL (local computation: no network)."""
        return self.client(credentials).generate_presigned_url(
            "get_object", Params={"Bucket": bucket_name(), "Key": key}, ExpiresIn=expires_in
        )

    def cached_presign_get(
        self, credentials: Credentials, *, key: str, lifetime: int, reuse_margin: float
    ) -> str:
        """A presigned GET URL, reused while it has more than `reuse_margin` seconds left.

        A new URL lives `lifetime` seconds, or less if the credentials expire sooner.
        """
        now = time.time()
        memo_key = (credentials.access_key, key)
        with self._lock:
            cached = self._urls.get(memo_key)
            if cached is not None and cached[1] - now > reuse_margin:
                self._urls.move_to_end(memo_key)
                return cached[0]
        valid_until = min(now + lifetime, credentials.expiration)
        url = self.presign_get(credentials, key=key, expires_in=max(int(valid_until - now), 1))
        with self._lock:
            self._urls[memo_key] = (url, valid_until)
            self._urls.move_to_end(memo_key)
            while len(self._urls) > URL_CACHE_SIZE:
                self._urls.popitem(last=False)
        return url

    def presign_post(
        self, credentials: Credentials, *, key: str, content_type: str, max_bytes: int, expires_in: int
    ) -> dict[str, Any]:
        """A presigned POST for exactly `key`, one content type and 1..max_bytes (S3 enforces them)."""
        # boto3 adds the {"bucket": ...} and {"key": key} conditions itself.
        return self.client(credentials).generate_presigned_post(
            bucket_name(),
            key,
            Fields={"Content-Type": content_type},
            Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, max_bytes]],
            ExpiresIn=expires_in,
        )


_bucket = S3Bucket()


def bucket() -> S3Bucket:
    """The process's one S3 client for the avatars bucket."""
    return _bucket
