"""The fake providers' secrets, per data dir (``idp.json``, 0600): client secrets, signing keys.

What a developer would get from Google/Facebook/Apple when registering the app: a client secret
(Apple: a private key whose public half Apple keeps), and what those providers keep to themselves:
their ID-token signing keys.
"""

from __future__ import annotations

import base64
import functools
import json
import secrets
import string
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from localcloud.files import write_private
from localcloud.idp.catalog import PROVIDERS

IDP_FILE = "idp.json"


def _pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8 or 1, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@functools.lru_cache(maxsize=16)
def load_private(pem: str) -> Any:
    """A PEM private key, parsed once."""
    return serialization.load_pem_private_key(pem.encode(), password=None)


@dataclass
class Credentials:
    """Everything in idp.json."""

    path: Path
    client_secrets: dict[str, str]
    signing: dict[str, dict[str, str]]  # slug → {kid, pem}
    apple_key: dict[str, str]  # the developer's Sign in with Apple key: {key_id, team_id, pem}
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def signing_key(self, slug: str) -> dict[str, str]:
        """{kid, pem} of a provider's ID-token key, made (and saved) at its first use: three RSA
        keys at every first start would slow it down for nothing."""
        with self._lock:
            if slug not in self.signing:
                key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
                self.signing[slug] = {"kid": secrets.token_hex(20), "pem": _pem(key)}
                data = {
                    "client_secrets": self.client_secrets,
                    "signing": self.signing,
                    "apple_key": self.apple_key,
                }
                write_private(self.path, json.dumps(data, indent=1))
            return self.signing[slug]

    def jwks(self, slug: str) -> dict[str, list[dict[str, str]]]:
        """The provider's public signing key as a JWKS."""
        entry = self.signing_key(slug)
        numbers = load_private(entry["pem"]).public_key().public_numbers()
        jwk = {"kty": "RSA", "alg": "RS256", "use": "sig", "kid": entry["kid"],
               "n": _b64url_uint(numbers.n), "e": _b64url_uint(numbers.e)}  # fmt: skip
        return {"keys": [jwk]}

    def apple_public_key(self) -> ec.EllipticCurvePublicKey:
        """The public half of the developer key (what Apple keeps to check client secrets)."""
        return load_private(self.apple_key["pem"]).public_key()


def _new() -> dict[str, Any]:
    alphabet = string.ascii_letters + string.digits
    return {
        "client_secrets": {slug: "".join(secrets.choice(alphabet) for _ in range(40)) for slug in PROVIDERS},
        "signing": {},  # made at first use (signing_key)
        "apple_key": {
            "key_id": "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(10)),
            "team_id": "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(10)),
            "pem": _pem(ec.generate_private_key(ec.SECP256R1())),
        },
    }


def load(data_dir: Path) -> Credentials:
    """Read idp.json, creating it (0600) at first start."""
    path = data_dir / IDP_FILE
    if path.exists():
        data = json.loads(path.read_text())
    else:
        data = _new()
        write_private(path, json.dumps(data, indent=1))
    return Credentials(path=path, **data)
