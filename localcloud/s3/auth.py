"""Who signed an S3 request: SigV4 in its three forms (header, presigned query, browser POST form).

Principals:
* the server/admin key from app.env (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``): full access,
  signature still checked (it stands for the account's IAM user or the app's task role);
* identity-pool credentials (``ASIA...`` + session token): the policy of the role they were issued
  for, with ``${cognito-identity.amazonaws.com:sub}`` = their identity id;
* anonymous: nothing (the bucket is private: no bucket policy, no public ACL).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Request

from localcloud.identitypool.pool import Credentials, IdentityPool
from localcloud.s3.errors import V2_REFUSED, S3Error, access_denied, signature_mismatch
from localcloud.s3.postpolicy import check_post_policy
from localcloud.s3.sigv4 import (
    ALGORITHM,
    UNSIGNED_PAYLOAD,
    Scope,
    lower_headers,
    parse_amz_date,
    parse_credential,
    raw_path_and_query,
    sign,
    signing_key,
    string_to_sign,
    verify_chunks,
)

# S3 refuses header-signed requests whose time is more than 15 minutes off.
MAX_SKEW = timedelta(minutes=15)
# Presigned URLs live at most 7 days (X-Amz-Expires <= 604800).
MAX_PRESIGN_SECONDS = 604800
PRESIGN_PARAMS = frozenset(
    {"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders",
     "X-Amz-Signature", "X-Amz-Security-Token"}
)  # fmt: skip


@dataclass(frozen=True)
class Principal:
    """Who a request is from: admin, identity (with credentials) or anonymous."""

    kind: str
    credentials: Credentials | None = None


ANONYMOUS = Principal("anonymous")
ADMIN = Principal("admin")
# Checks the body against what the signature covers (its SHA-256, or its chunk signatures).
PayloadCheck = Callable[[bytes], None]


def _unchecked(body: bytes) -> None:
    """Presigned URLs and anonymous requests sign no payload."""


@dataclass(frozen=True)
class Target:
    """Bucket and key of a path-style request."""

    bucket: str
    key: str

    @property
    def arn(self) -> str:
        """The resource ARN of the bucket or object."""
        return f"arn:aws:s3:::{self.bucket}/{self.key}" if self.key else f"arn:aws:s3:::{self.bucket}"


def target_of(request: Request) -> Target:
    """Bucket and key from a path-style URL (``/bucket/key``)."""
    path = request.path.lstrip("/")
    bucket, _, key = path.partition("/")
    return Target(bucket, key)


class Authenticator:
    """Finds and checks the principal of a request: the admin key, identity credentials or nobody."""

    def __init__(self, identity: IdentityPool, region: str, admin_key: str, admin_secret: str) -> None:
        """Bind to the identity pool (credentials) and the admin key pair."""
        self.identity = identity
        self.region = region
        self.admin_key = admin_key
        self.admin_secret = admin_secret

    # --- credentials --------------------------------------------------------------------------
    def _principal(self, access_key_id: str, session_token: str | None) -> tuple[Principal, str]:
        """The principal and secret for a key id, with the session token checked."""
        if access_key_id == self.admin_key:
            if session_token:
                raise S3Error("InvalidToken", "The provided token is malformed or otherwise invalid.", 400)
            return ADMIN, self.admin_secret
        credentials = self.identity.lookup(access_key_id)
        if credentials is None or not session_token:
            # Temporary keys are unknown without their session token, as on AWS.
            raise S3Error(
                "InvalidAccessKeyId",
                "The AWS Access Key Id you provided does not exist in our records.",
                AWSAccessKeyId=access_key_id[:128],
            )
        if not hmac.compare_digest(session_token.encode(), credentials.session_token.encode()):
            raise S3Error("InvalidToken", "The provided token is malformed or otherwise invalid.", 400)
        return Principal(credentials.kind, credentials), credentials.secret_key

    def _check_credentials_live(self, principal: Principal, now: datetime) -> None:
        """Temporary credentials past their expiration sign nothing (presigned URLs included)."""
        if principal.credentials and principal.credentials.expiration <= now.timestamp():
            raise S3Error("ExpiredToken", "The provided token has expired.", 400)

    def _check_scope(self, scope: Scope, amz_date: str) -> None:
        """Scope date, region and service as S3 checks them."""
        if scope.date != amz_date[:8]:
            raise signature_mismatch()
        if scope.service != "s3":
            raise S3Error("AuthorizationHeaderMalformed", f"The service '{scope.service}' is incorrect.", 400)
        if scope.region != self.region:
            raise S3Error(
                "AuthorizationHeaderMalformed",
                f"The authorization header is malformed; the region '{scope.region}' is wrong; "
                f"expecting '{self.region}'",
                400,
                Region=self.region,
            )

    # --- the three SigV4 forms ----------------------------------------------------------------
    @staticmethod
    def is_form_post(request: Request) -> bool:
        """A browser POST upload: its signature is in the form, so the body must be parsed first."""
        return (
            request.method == "POST"
            and request.mimetype == "multipart/form-data"
            and not request.headers.get("Authorization")
            and not {"X-Amz-Algorithm", "X-Amz-Credential", "Signature", "AWSAccessKeyId"} & set(request.args)
        )

    def authenticate(self, request: Request, now: datetime) -> tuple[Principal, PayloadCheck]:
        """The principal of a header-signed, presigned or anonymous request, from its head alone.

        The body is not needed (nor read): the header form signs the payload's hash, which the
        returned check compares with the body once it has been read.
        """
        auth = request.headers.get("Authorization", "")
        if auth:
            if not auth.startswith(ALGORITHM + " "):
                raise S3Error("InvalidRequest", V2_REFUSED, 400)
            return self._header_auth(request, auth, now)
        if "X-Amz-Algorithm" in request.args or "X-Amz-Credential" in request.args:
            return self._query_auth(request, now), _unchecked
        if "Signature" in request.args or "AWSAccessKeyId" in request.args:
            raise S3Error("InvalidRequest", V2_REFUSED, 400)
        return ANONYMOUS, _unchecked

    def _header_auth(self, request: Request, auth: str, now: datetime) -> tuple[Principal, PayloadCheck]:
        """``Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...``."""
        fields = dict(part.strip().split("=", 1) for part in auth[len(ALGORITHM) :].split(",") if "=" in part)
        if not {"Credential", "SignedHeaders", "Signature"} <= set(fields):
            raise S3Error("AuthorizationHeaderMalformed", "The authorization header is malformed.", 400)
        scope = parse_credential(fields["Credential"])
        headers = lower_headers(request)
        amz_date = headers.get("x-amz-date", "")
        when = parse_amz_date(amz_date)
        self._check_scope(scope, amz_date)
        principal, secret = self._principal(scope.access_key_id, headers.get("x-amz-security-token"))
        signed = fields["SignedHeaders"].split(";")
        if "host" not in signed or signed != sorted(signed):
            raise signature_mismatch()
        payload_hash = headers.get("x-amz-content-sha256")
        if not payload_hash:
            message = "Missing required header for this request: x-amz-content-sha256"
            raise S3Error("InvalidRequest", message, 400)
        raw_path, raw_query = raw_path_and_query(request)
        key = signing_key(secret, scope)
        expected = sign(
            key,
            string_to_sign(
                method=request.method, raw_path=raw_path, raw_query=raw_query, headers=headers,
                signed_headers=signed, payload_hash=payload_hash, amz_date=amz_date, scope=scope,
            ),
        )  # fmt: skip
        if not hmac.compare_digest(expected, fields["Signature"]):
            raise signature_mismatch()
        if abs(now - when) > MAX_SKEW:
            raise S3Error(
                "RequestTimeTooSkewed",
                "The difference between the request time and the current time is too large.",
                RequestTime=amz_date,
                ServerTime=now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            )
        self._check_credentials_live(principal, now)
        seed = fields["Signature"]

        def check_payload(body: bytes) -> None:
            if payload_hash.startswith("STREAMING-AWS4-HMAC-SHA256-PAYLOAD"):
                verify_chunks(body, key, amz_date, scope, seed)
            elif payload_hash not in (UNSIGNED_PAYLOAD, "STREAMING-UNSIGNED-PAYLOAD-TRAILER"):
                if not hmac.compare_digest(payload_hash, hashlib.sha256(body).hexdigest()):
                    raise S3Error(
                        "XAmzContentSHA256Mismatch",
                        "The provided 'x-amz-content-sha256' header does not match what was computed.",
                        400,
                    )

        return principal, check_payload

    def _query_auth(self, request: Request, now: datetime) -> Principal:
        """A presigned URL (``X-Amz-*`` query parameters)."""
        args = request.args
        missing = [p for p in sorted(PRESIGN_PARAMS - {"X-Amz-Security-Token"}) if p not in args]
        if missing or args.get("X-Amz-Algorithm") != ALGORITHM:
            raise S3Error(
                "AuthorizationQueryParametersError",
                "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, "
                "X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.",
                400,
            )
        for name in PRESIGN_PARAMS:
            if len(args.getlist(name)) > 1:
                raise S3Error("AuthorizationQueryParametersError", f"{name} is repeated.", 400)
        scope = parse_credential(args["X-Amz-Credential"])
        amz_date = args["X-Amz-Date"]
        when = parse_amz_date(amz_date)
        try:
            expires = int(args["X-Amz-Expires"])
        except ValueError:
            expires = -1
        if not 0 < expires <= MAX_PRESIGN_SECONDS:
            raise S3Error(
                "AuthorizationQueryParametersError",
                "X-Amz-Expires must be more than 0 and less than a week (604800 seconds).",
                400,
            )
        self._check_scope(scope, amz_date)
        principal, secret = self._principal(scope.access_key_id, args.get("X-Amz-Security-Token"))
        signed = args["X-Amz-SignedHeaders"].split(";")
        if "host" not in signed:
            raise signature_mismatch()
        raw_path, raw_query = raw_path_and_query(request)
        headers = lower_headers(request)
        expected = sign(
            signing_key(secret, scope),
            string_to_sign(
                method=request.method, raw_path=raw_path, raw_query=raw_query, headers=headers,
                signed_headers=signed, payload_hash=UNSIGNED_PAYLOAD, amz_date=amz_date, scope=scope,
                exclude=frozenset({"X-Amz-Signature"}),
            ),
        )  # fmt: skip
        if not hmac.compare_digest(expected, args["X-Amz-Signature"]):
            raise signature_mismatch()
        if now > when + timedelta(seconds=expires):
            raise access_denied("Request has expired")
        if when - now > MAX_SKEW:
            raise access_denied("Request is not yet valid")
        self._check_credentials_live(principal, now)
        return principal

    def authenticate_form(self, request: Request, now: datetime) -> tuple[Principal, dict[str, str]]:
        """A browser POST upload: the signature over the base64 policy, then the policy's conditions.

        The caller spools the body first (werkzeug keeps large files on disk while parsing).
        """
        fields, upload = _form_fields(request)
        if "policy" not in fields:
            # No policy: an anonymous upload, which a private bucket refuses.
            return ANONYMOUS, fields
        principal = self._verify_policy_signature(fields)
        document = _policy_document(fields["policy"])
        if fields.get("success_action_status", "204") not in ("200", "201", "204"):
            # S3 would fall back to 204; moto cannot, so refuse it plainly instead of failing.
            raise S3Error("InvalidArgument", "success_action_status must be 200, 201 or 204.", 400)
        if "key" in fields and "key" not in request.form:
            raise S3Error("InvalidArgument", "localcloud needs the key field named exactly 'key'.", 400)
        size = _stream_size(upload)
        check_post_policy(document, fields, target_of(request).bucket, size, now)
        self._check_credentials_live(principal, now)
        return principal, fields

    def _verify_policy_signature(self, fields: dict[str, str]) -> Principal:
        """The principal whose key signed the base64 policy (SigV4 over the policy string)."""
        for name in ("x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-signature"):
            if name not in fields:
                raise S3Error("InvalidArgument", f"Bucket POST must contain a field named '{name}'.", 400)
        if fields["x-amz-algorithm"] != ALGORITHM:
            raise S3Error("InvalidArgument", "Only AWS4-HMAC-SHA256 is supported.", 400)
        scope = parse_credential(fields["x-amz-credential"])
        parse_amz_date(fields["x-amz-date"])
        self._check_scope(scope, fields["x-amz-date"])
        principal, secret = self._principal(scope.access_key_id, fields.get("x-amz-security-token"))
        expected = sign(signing_key(secret, scope), fields["policy"])
        if not hmac.compare_digest(expected, fields["x-amz-signature"]):
            raise signature_mismatch()
        return principal


def _form_fields(request: Request) -> tuple[dict[str, str], FileStorage]:
    """The form's fields (names lower-cased, each given once) and its one file."""
    form = request.form
    fields: dict[str, str] = {}
    for name in form:
        values = form.getlist(name)
        if len(values) != 1 or name.lower() in fields:
            raise S3Error("InvalidArgument", f"POST field {name} is repeated.", 400)
        fields[name.lower()] = values[0]
    upload: FileStorage | None = request.files.get("file")
    if upload is None or len(request.files) != 1:
        raise S3Error("InvalidArgument", "POST requires exactly one file upload per request.", 400)
    return fields, upload


def _policy_document(policy: str) -> dict:
    """The POST policy: base64 of a JSON object."""
    try:
        document = json.loads(base64.b64decode(policy, validate=True))
    except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser's stack
        raise S3Error("InvalidPolicyDocument", "Invalid Policy: Invalid JSON.", 400) from None
    if not isinstance(document, dict):
        raise S3Error("InvalidPolicyDocument", "Invalid Policy: Invalid JSON.", 400)
    return document


def _stream_size(upload: FileStorage) -> int:
    """Size of an uploaded form file."""
    stream = upload.stream
    stream.seek(0, 2)
    size = stream.tell()
    stream.seek(0)
    return size
