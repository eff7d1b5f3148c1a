"""Create the private bucket and its CORS rule in moto's in-process S3 at start-up."""

from __future__ import annotations

from typing import Any

from moto.core import DEFAULT_ACCOUNT_ID
from moto.s3.models import FakeBucket, s3_backends

from localcloud.config import Config


def backend() -> Any:
    """moto's S3 backend (one per account, partition "aws")."""
    return s3_backends[DEFAULT_ACCOUNT_ID]["aws"]


def bucket(name: str) -> FakeBucket | None:
    """A bucket by name, or None."""
    return backend().buckets.get(name)


def seed(config: Config) -> str | None:
    """Ensure the configured bucket exists with the configured CORS rules; returns its name."""
    name = config.bucket
    if not name:
        return None
    if bucket(name) is None:
        backend().create_bucket(name, config.region)
    # PutBucketCors shape (AllowedOrigins...) to moto's parsed-XML shape (AllowedOrigin...).
    rules = [
        {
            "AllowedMethod": list(rule.get("AllowedMethods", [])),
            "AllowedOrigin": list(rule.get("AllowedOrigins", [])),
            "AllowedHeader": list(rule.get("AllowedHeaders", [])),
            "ExposeHeader": list(rule.get("ExposeHeaders", [])),
            **({"MaxAgeSeconds": str(rule["MaxAgeSeconds"])} if "MaxAgeSeconds" in rule else {}),
        }
        for rule in config.cors_rules
    ]
    backend().put_bucket_cors(name, rules)
    return name
