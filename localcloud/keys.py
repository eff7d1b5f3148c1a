"""Per-data-dir RSA signing keys for the user pool (never moto's public, forgeable key)."""

from __future__ import annotations

import base64
import functools
import json
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from localcloud.files import write_private

KEYS_FILE = "keys.json"


def _b64url_uint(value: int) -> str:
    """Encode an unsigned integer as unpadded base64url, as JWKs do (RFC 7518 §6.3)."""
    raw = value.to_bytes((value.bit_length() + 7) // 8 or 1, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@functools.lru_cache(maxsize=16)
def _load_pem(pem: str) -> rsa.RSAPrivateKey:
    """Parse a PEM private key once (parsing costs milliseconds; signing happens per token)."""
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("keys.json holds a non-RSA key")
    return key


@dataclass(frozen=True)
class SigningKey:
    """One RSA key pair with its kid and the time it stopped signing (None while current)."""

    kid: str
    private_pem: str
    created: float
    retired_at: float | None = None

    @property
    def private_key(self) -> rsa.RSAPrivateKey:
        """The loaded private key."""
        return _load_pem(self.private_pem)

    def public_jwk(self) -> dict[str, str]:
        """The public half as a JWK, shaped like Cognito's JWKS entries."""
        numbers = self.private_key.public_key().public_numbers()
        return {
            "alg": "RS256",
            "e": _b64url_uint(numbers.e),
            "kid": self.kid,
            "kty": "RSA",
            "n": _b64url_uint(numbers.n),
            "use": "sig",
        }


def _new_key() -> SigningKey:
    """Generate a fresh 2048-bit RSA key (Cognito's size) with a random kid."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    # Cognito kids are base64 strings; a random one is enough to be unique per key.
    kid = base64.b64encode(secrets.token_bytes(32)).decode()
    return SigningKey(kid=kid, private_pem=pem, created=time.time())


def _write(path: Path, keys: list[SigningKey]) -> None:
    """Atomically write the key file, readable by its owner only."""
    # A plain list, oldest first: simple for tools (and tests) that read the current key.
    write_private(path, json.dumps([k.__dict__ for k in keys], indent=1))


def _read(path: Path) -> list[SigningKey]:
    """Read the key file (oldest first)."""
    with path.open() as fh:
        data: list[dict[str, Any]] = json.load(fh)
    return [SigningKey(**k) for k in data]


def rotate_key(data_dir: Path) -> SigningKey:
    """Retire the current key and make a new one current; returns the new key."""
    path = data_dir / KEYS_FILE
    keys = _read(path) if path.exists() else []
    now = time.time()
    keys = [k if k.retired_at else SigningKey(k.kid, k.private_pem, k.created, now) for k in keys]
    new = _new_key()
    keys.append(new)
    _write(path, keys)
    return new


class KeyStore:
    """The key file of one data dir, re-read whenever its mtime changes (rotation needs no restart)."""

    def __init__(self, data_dir: Path, max_token_lifetime: float) -> None:
        """Load (or create) the key file; retired keys stay published for max_token_lifetime s."""
        self.path = data_dir / KEYS_FILE
        self.max_token_lifetime = max_token_lifetime
        self._lock = threading.Lock()
        self._mtime: float | None = None
        self._keys: list[SigningKey] = []
        if not self.path.exists():
            rotate_key(data_dir)
        self._reload()

    def _reload(self) -> list[SigningKey]:
        """Return the keys, reading the file again only if it changed on disk."""
        with self._lock:
            mtime = self.path.stat().st_mtime_ns
            if mtime != self._mtime:
                self._keys = _read(self.path)
                self._mtime = mtime
            return self._keys

    def current(self) -> SigningKey:
        """The key that signs new tokens."""
        keys = self._reload()
        return next(k for k in reversed(keys) if k.retired_at is None)

    def published(self) -> list[SigningKey]:
        """Keys in the JWKS: the current one and retired ones whose tokens may still be live."""
        now = time.time()
        return [
            k for k in self._reload() if k.retired_at is None or k.retired_at + self.max_token_lifetime > now
        ]

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        """The JWKS document, newest key first."""
        return {"keys": [k.public_jwk() for k in reversed(self.published())]}

    def public_key(self, kid: str) -> rsa.RSAPublicKey | None:
        """The public key for a published kid, or None."""
        for key in self.published():
            if key.kid == kid:
                return key.private_key.public_key()
        return None
