"""AWS Signature Version 4 for S3: canonical requests, signing keys, aws-chunked bodies.

Written to the published algorithm (docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-
signed-request.html) and checked against botocore's signer by the tests. S3 specifics: the path
is not normalised (only re-encoded the way SDKs encode it) and the payload hash comes from the
``x-amz-content-sha256`` header (or ``UNSIGNED-PAYLOAD`` for presigned URLs).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote, unquote

from werkzeug.wrappers import Request

ALGORITHM = "AWS4-HMAC-SHA256"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
AMZ_DATE_FORMAT = "%Y%m%dT%H%M%SZ"


class SigV4Error(Exception):
    """A request whose signature parts are malformed (S3 answers 400 or 403 accordingly)."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        """Keep S3's error code, message and status."""
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


@dataclass(frozen=True)
class Scope:
    """The parsed ``<key>/<date>/<region>/<service>/aws4_request`` credential."""

    access_key_id: str
    date: str
    region: str
    service: str

    @property
    def text(self) -> str:
        """The credential scope string (without the key id)."""
        return f"{self.date}/{self.region}/{self.service}/aws4_request"


def parse_credential(credential: str) -> Scope:
    """Split a Credential value; AuthorizationHeaderMalformed-like error when it is not one."""
    parts = credential.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request" or not re.fullmatch(r"\d{8}", parts[1]):
        raise SigV4Error("AuthorizationHeaderMalformed", "The authorization header is malformed.")
    return Scope(*parts[:4])


def parse_amz_date(value: str) -> datetime:
    """An ``X-Amz-Date`` value as an aware datetime."""
    try:
        return datetime.strptime(value, AMZ_DATE_FORMAT).replace(tzinfo=UTC)
    except (TypeError, ValueError):
        message = "AWS authentication requires a valid Date or x-amz-date header"
        raise SigV4Error("AccessDenied", message, 403) from None


def signing_key(secret: str, scope: Scope) -> bytes:
    """kSigning = HMAC chain over date, region, service and "aws4_request"."""
    key = ("AWS4" + secret).encode()
    for part in (scope.date, scope.region, scope.service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def sign(key: bytes, string_to_sign: str) -> str:
    """Hex HMAC-SHA256 signature."""
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


def _encode(value: str, safe: str = "") -> str:
    """RFC 3986 encoding as SigV4 wants it (unreserved characters kept)."""
    return quote(value, safe="-_.~" + safe)


def canonical_uri(raw_path: str) -> str:
    """S3's canonical URI: the path as sent, re-encoded the way the SDKs encode it (not normalised)."""
    return _encode(unquote(raw_path or "/"), safe="/")


def canonical_query(raw_query: str, exclude: frozenset[str] = frozenset()) -> str:
    """Parameters decoded, re-encoded, sorted by name then value; ``exclude`` left out."""
    pairs = []
    for item in raw_query.split("&"):
        if not item:
            continue
        name, _, value = item.partition("=")
        name, value = unquote(name), unquote(value)
        if name in exclude:
            continue
        pairs.append((_encode(name), _encode(value)))
    return "&".join(f"{n}={v}" for n, v in sorted(pairs))


def canonical_headers(headers: dict[str, str], signed: list[str]) -> str:
    """``name:value`` lines for the signed headers (values trimmed, inner spaces collapsed)."""
    lines = []
    for name in signed:
        value = headers.get(name)
        if value is None:
            raise SigV4Error("SignatureDoesNotMatch", f"Signed header {name!r} is missing.", 403)
        lines.append(f"{name}:{' '.join(value.split())}\n")
    return "".join(lines)


def string_to_sign(
    *,
    method: str,
    raw_path: str,
    raw_query: str,
    headers: dict[str, str],
    signed_headers: list[str],
    payload_hash: str,
    amz_date: str,
    scope: Scope,
    exclude: frozenset[str] = frozenset(),
) -> str:
    """The string to sign for a request (header or presigned form)."""
    canonical = "\n".join(
        [
            method.upper(),
            canonical_uri(raw_path),
            canonical_query(raw_query, exclude),
            canonical_headers(headers, signed_headers),
            ";".join(signed_headers),
            payload_hash,
        ]
    )
    return "\n".join([ALGORITHM, amz_date, scope.text, hashlib.sha256(canonical.encode()).hexdigest()])


def verify_chunks(body: bytes, key: bytes, amz_date: str, scope: Scope, seed_signature: str) -> bytes:
    """Check every chunk signature of a STREAMING-AWS4-HMAC-SHA256-PAYLOAD body; the decoded data."""
    data = bytearray()
    previous = seed_signature
    position = 0
    while True:
        line_end = body.find(b"\r\n", position)
        if line_end < 0:
            raise SigV4Error("IncompleteBody", "The request body terminated unexpectedly")
        header = body[position:line_end].decode("latin-1")
        match = re.fullmatch(r"([0-9a-fA-F]+);chunk-signature=([0-9a-f]{64})", header)
        if not match:
            raise SigV4Error("InvalidRequest", "Malformed aws-chunked body")
        size = int(match.group(1), 16)
        chunk = body[line_end + 2 : line_end + 2 + size]
        if len(chunk) != size:
            raise SigV4Error("IncompleteBody", "The request body terminated unexpectedly")
        expected = sign(
            key,
            "\n".join(
                [
                    "AWS4-HMAC-SHA256-PAYLOAD",
                    amz_date,
                    scope.text,
                    previous,
                    EMPTY_SHA256,
                    hashlib.sha256(chunk).hexdigest(),
                ]
            ),
        )
        if not hmac.compare_digest(expected, match.group(2)):
            raise SigV4Error(
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided.",
                403,
            )
        previous = expected
        data += chunk
        position = line_end + 2 + size + 2
        if size == 0:
            return bytes(data)


# --- a werkzeug request's signed parts ----------------------------------------------------------
def raw_path_and_query(request: Request) -> tuple[str, str]:
    """The path and query exactly as sent (the signature covers them, not werkzeug's decoding)."""
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or request.full_path
    path, _, query = raw.partition("?")
    if "://" in path:  # absolute-form request target
        path = "/" + path.split("://", 1)[1].partition("/")[2]
    return path, query


def lower_headers(request: Request) -> dict[str, str]:
    """Request headers by lower-case name (repeated headers joined with commas, as SigV4 wants)."""
    headers: dict[str, list[str]] = {}
    for name, value in request.headers.items():
        headers.setdefault(name.lower(), []).append(value)
    return {name: ",".join(values) for name, values in headers.items()}
