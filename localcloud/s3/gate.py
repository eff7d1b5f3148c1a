"""The checks S3 makes before an operation runs: who signed it, whether the signature and its
time limits hold, and whether the signer's policy allows it. moto's S3 runs the operation after.

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
import html
import json
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote

from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Request, Response

from localcloud.identitypool.pool import Credentials, IdentityPool
from localcloud.s3 import policy
from localcloud.s3 import seed as s3_seed
from localcloud.s3.sigv4 import (
    ALGORITHM,
    UNSIGNED_PAYLOAD,
    Scope,
    SigV4Error,
    parse_amz_date,
    parse_credential,
    sign,
    signing_key,
    string_to_sign,
    verify_chunks,
)

# S3 refuses header-signed requests whose time is more than 15 minutes off.
MAX_SKEW = timedelta(minutes=15)
# Presigned URLs live at most 7 days (X-Amz-Expires <= 604800).
MAX_PRESIGN_SECONDS = 604800
_PRESIGN_PARAMS = frozenset(
    {"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders",
     "X-Amz-Signature", "X-Amz-Security-Token"}
)  # fmt: skip
_SIGNATURE_MISMATCH = "The request signature we calculated does not match the signature you provided."
_V2_REFUSED = "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256."
# Query parameters that do not change which operation an object/bucket request is.
_PLAIN_PARAMS = frozenset(
    {"versionId", "partNumber", "x-id", "response-content-type", "response-content-language",
     "response-expires", "response-cache-control", "response-content-disposition",
     "response-content-encoding"}
) | _PRESIGN_PARAMS  # fmt: skip
_LIST_PARAMS = frozenset(
    {"list-type", "prefix", "delimiter", "marker", "max-keys", "encoding-type", "continuation-token",
     "start-after", "fetch-owner", "x-id", "optional-object-attributes"}
) | _PRESIGN_PARAMS  # fmt: skip
# POST form fields that need no policy condition (AWS: "except x-amz-signature, file, policy and
# field names that have an x-ignore- prefix").
_UNCONDITIONED_FIELDS = {"x-amz-signature", "file", "policy"}


class S3Error(Exception):
    """An S3 error response: code, message, HTTP status."""

    def __init__(self, code: str, message: str, status: int = 403, **extra: str) -> None:
        """Keep S3's error code, message, status and extra elements."""
        super().__init__(message)
        self.code, self.message, self.status, self.extra = code, message, status, extra

    def response(self, resource: str = "") -> Response:
        """S3's XML error document."""
        parts = [f"<Code>{self.code}</Code>", f"<Message>{html.escape(self.message)}</Message>"]
        parts += [f"<{k}>{html.escape(v)}</{k}>" for k, v in self.extra.items()]
        if resource:
            parts.append(f"<Resource>{html.escape(resource)}</Resource>")
        request_id = uuid.uuid4().hex[:16].upper()
        parts.append(f"<RequestId>{request_id}</RequestId><HostId>localcloud</HostId>")
        body = '<?xml version="1.0" encoding="UTF-8"?>\n<Error>' + "".join(parts) + "</Error>"
        return Response(
            body, status=self.status, content_type="application/xml", headers={"x-amz-request-id": request_id}
        )


def access_denied(message: str = "Access Denied") -> S3Error:
    """403 AccessDenied."""
    return S3Error("AccessDenied", message)


def signature_mismatch() -> S3Error:
    """403 SignatureDoesNotMatch."""
    return S3Error("SignatureDoesNotMatch", _SIGNATURE_MISMATCH)


@dataclass(frozen=True)
class Principal:
    """Who a request is from: admin, identity (with credentials) or anonymous."""

    kind: str
    credentials: Credentials | None = None


ANONYMOUS = Principal("anonymous")
ADMIN = Principal("admin")


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


class Gate:
    """Authenticates and authorises S3 requests against the identity pool and the admin key."""

    def __init__(self, identity: IdentityPool, region: str, admin_key: str, admin_secret: str) -> None:
        """Bind to the identity pool (credentials, role policies) and the admin key pair."""
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
    def authenticate(self, request: Request, body: bytes, now: datetime) -> tuple[Principal, dict[str, str]]:
        """The principal of a request and, for a browser POST, its form fields (lower-case names)."""
        auth = request.headers.get("Authorization", "")
        if auth:
            if not auth.startswith(ALGORITHM + " "):
                raise S3Error("InvalidRequest", _V2_REFUSED, 400)
            return self._header_auth(request, auth, body, now), {}
        if "X-Amz-Algorithm" in request.args or "X-Amz-Credential" in request.args:
            return self._query_auth(request, now), {}
        if "Signature" in request.args or "AWSAccessKeyId" in request.args:
            raise S3Error("InvalidRequest", _V2_REFUSED, 400)
        if request.method == "POST" and request.mimetype == "multipart/form-data":
            return self._post_auth(request, body, now)
        return ANONYMOUS, {}

    def _header_auth(self, request: Request, auth: str, body: bytes, now: datetime) -> Principal:
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
        if payload_hash.startswith("STREAMING-AWS4-HMAC-SHA256-PAYLOAD"):
            verify_chunks(body, key, amz_date, scope, fields["Signature"])
        elif payload_hash not in (UNSIGNED_PAYLOAD, "STREAMING-UNSIGNED-PAYLOAD-TRAILER"):
            if not hmac.compare_digest(payload_hash, hashlib.sha256(body).hexdigest()):
                raise S3Error(
                    "XAmzContentSHA256Mismatch",
                    "The provided 'x-amz-content-sha256' header does not match what was computed.",
                    400,
                )
        return principal

    def _query_auth(self, request: Request, now: datetime) -> Principal:
        """A presigned URL (``X-Amz-*`` query parameters)."""
        args = request.args
        missing = [p for p in sorted(_PRESIGN_PARAMS - {"X-Amz-Security-Token"}) if p not in args]
        if missing or args.get("X-Amz-Algorithm") != ALGORITHM:
            raise S3Error(
                "AuthorizationQueryParametersError",
                "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, "
                "X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.",
                400,
            )
        for name in _PRESIGN_PARAMS:
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

    def _post_auth(self, request: Request, body: bytes, now: datetime) -> tuple[Principal, dict[str, str]]:
        """A browser POST upload: the signature over the base64 policy, then the policy's conditions."""
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
        if "policy" not in fields:
            # No policy: an anonymous upload, which a private bucket refuses.
            return ANONYMOUS, fields
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
        try:
            document = json.loads(base64.b64decode(fields["policy"], validate=True))
        except ValueError:
            raise S3Error("InvalidPolicyDocument", "Invalid Policy: Invalid JSON.", 400) from None
        if not isinstance(document, dict):
            raise S3Error("InvalidPolicyDocument", "Invalid Policy: Invalid JSON.", 400)
        if fields.get("success_action_status", "204") not in ("200", "201", "204"):
            # S3 would fall back to 204; moto cannot, so refuse it plainly instead of failing.
            raise S3Error("InvalidArgument", "success_action_status must be 200, 201 or 204.", 400)
        if "key" in fields and "key" not in form:
            raise S3Error("InvalidArgument", "localcloud needs the key field named exactly 'key'.", 400)
        size = _stream_size(upload)
        check_post_policy(document, fields, target_of(request).bucket, size, now)
        self._check_credentials_live(principal, now)
        return principal, fields

    # --- authorisation ------------------------------------------------------------------------------
    def authorize(self, principal: Principal, request: Request, body: bytes, form: dict[str, str]) -> None:
        """AccessDenied unless the principal may perform every action the request needs."""
        if principal.kind == "admin":
            return
        if principal.credentials is None:
            raise access_denied()
        needs = required_actions(request, body, form)
        if needs is None:
            raise access_denied()
        document = self.identity.policy_for(principal.credentials.kind)
        variables = {
            "cognito-identity.amazonaws.com:sub": principal.credentials.identity_id,
            "cognito-identity.amazonaws.com:aud": self.identity.id,
            "cognito-identity.amazonaws.com:amr": principal.credentials.kind,
        }
        for action, resource, context in needs:
            if not policy.evaluate(document, action, resource, context, variables):
                raise access_denied()

    def check(self, request: Request, body: bytes) -> Response | None:
        """None when the request may go on to moto; otherwise S3's error response."""
        now = datetime.now(UTC)
        try:
            principal, form = self.authenticate(request, body, now)
            self.authorize(principal, request, body, form)
        except (S3Error, SigV4Error) as exc:
            error = exc if isinstance(exc, S3Error) else S3Error(exc.code, exc.message, exc.status)
            return error.response(request.path)
        return None

    # --- CORS ----------------------------------------------------------------------------------
    def cors_rule(self, bucket: str, origin: str, method: str, headers: list[str]) -> Any | None:
        """The first CORS rule of the bucket that allows this origin, method and headers."""
        found = s3_seed.bucket(bucket)
        for rule in found.cors if found else []:
            if not any(_glob(o, origin) for o in rule.allowed_origins or []):
                continue
            if method not in (rule.allowed_methods or []):
                continue
            allowed = [h.lower() for h in rule.allowed_headers or []]
            if all(any(_glob(a, h.lower()) for a in allowed) for h in headers):
                return rule
        return None

    def preflight(self, request: Request) -> Response:
        """Answer an OPTIONS preflight from the bucket's CORS rules (403 when none matches)."""
        origin = request.headers.get("Origin", "")
        method = request.headers.get("Access-Control-Request-Method", "")
        wanted = [h.strip() for h in request.headers.get("Access-Control-Request-Headers", "").split(",")]
        wanted = [h for h in wanted if h]
        bucket = target_of(request).bucket
        rule = self.cors_rule(bucket, origin, method, wanted) if origin and method else None
        if rule is None:
            return access_denied("CORSResponse: This CORS request is not allowed.").response(request.path)
        response = Response(status=200)
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Methods"] = ", ".join(rule.allowed_methods)
        if wanted:
            response.headers["Access-Control-Allow-Headers"] = ", ".join(wanted)
        if rule.exposed_headers:
            response.headers["Access-Control-Expose-Headers"] = ", ".join(rule.exposed_headers)
        if rule.max_age_seconds:
            response.headers["Access-Control-Max-Age"] = str(rule.max_age_seconds)
        response.headers["Vary"] = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"
        return response

    def apply_cors(self, request: Request, response: Response) -> Response:
        """Replace moto's blanket CORS headers by the bucket rule's (none when no rule matches)."""
        if request.method == "OPTIONS":
            return response
        for name in list(response.headers.keys()):
            if name.lower().startswith("access-control-"):
                del response.headers[name]
        origin = request.headers.get("Origin", "")
        if origin:
            rule = self.cors_rule(target_of(request).bucket, origin, request.method, [])
            if rule is not None:
                response.headers["Access-Control-Allow-Origin"] = origin
                response.headers["Access-Control-Allow-Methods"] = ", ".join(rule.allowed_methods)
                if rule.exposed_headers:
                    response.headers["Access-Control-Expose-Headers"] = ", ".join(rule.exposed_headers)
                response.headers["Vary"] = "Origin"
        return response


def _glob(pattern: str, value: str) -> bool:
    """CORS origin/header match (one ``*`` wildcard allowed, as S3 does)."""
    return re.fullmatch(".*".join(re.escape(p) for p in pattern.split("*")), value) is not None


def _stream_size(upload: FileStorage) -> int:
    """Size of an uploaded form file."""
    stream = upload.stream
    stream.seek(0, 2)
    size = stream.tell()
    stream.seek(0)
    return size


# --- POST policy ------------------------------------------------------------------------------------
def _policy_failed(condition: Any) -> S3Error:
    """AccessDenied naming the failed condition, as S3 words it."""
    return access_denied(f"Invalid according to Policy: Policy Condition failed: {json.dumps(condition)}")


def check_post_policy(document: dict[str, Any], fields: dict[str, str], bucket: str, size: int,
                      now: datetime) -> None:  # fmt: skip
    """Enforce a POST policy's expiration and conditions against the form (S3's rules)."""
    try:
        expiration = datetime.fromisoformat(str(document["expiration"]).replace("Z", "+00:00"))
    except (KeyError, ValueError):
        raise S3Error("InvalidPolicyDocument", "Invalid Policy: Invalid 'expiration' value.", 400) from None
    if expiration.tzinfo is None:
        expiration = expiration.replace(tzinfo=UTC)
    if now > expiration:
        raise access_denied("Invalid according to Policy: Policy expired.")
    conditions = document.get("conditions")
    if not isinstance(conditions, list):
        raise S3Error("InvalidPolicyDocument", "Invalid Policy: Invalid 'conditions' value.", 400)
    values = {**fields, "bucket": bucket}
    covered: set[str] = set()
    for condition in conditions:
        if isinstance(condition, dict) and len(condition) == 1:
            ((name, expected),) = condition.items()
            name = name.lower().lstrip("$")
            covered.add(name)
            if values.get(name) != expected:
                raise _policy_failed(["eq", f"${name}", expected])
        elif isinstance(condition, list) and len(condition) == 3:
            operator, name, expected = condition
            operator = str(operator).lower()
            if operator == "content-length-range":
                try:
                    low, high = int(name), int(expected)
                except (TypeError, ValueError):
                    message = "Invalid Policy: Invalid content-length-range."
                    raise S3Error("InvalidPolicyDocument", message, 400) from None
                if size > high:
                    raise S3Error(
                        "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size", 400,
                        ProposedSize=str(size), MaxSizeAllowed=str(high),
                    )  # fmt: skip
                if size < low:
                    message = "Your proposed upload is smaller than the minimum allowed size"
                    raise S3Error(
                        "EntityTooSmall", message, 400, ProposedSize=str(size), MinSizeAllowed=str(low)
                    )
                continue
            if not isinstance(name, str) or not name.startswith("$") or not isinstance(expected, str):
                raise S3Error("InvalidPolicyDocument", "Invalid Policy: Invalid condition.", 400)
            name = name[1:].lower()
            covered.add(name)
            actual = values.get(name)
            if operator == "eq":
                ok = actual == expected
            elif operator == "starts-with":
                ok = actual is not None and actual.startswith(expected)
            else:
                raise S3Error("InvalidPolicyDocument", "Invalid Policy: Invalid condition.", 400)
            if not ok:
                raise _policy_failed(condition)
        else:
            raise S3Error("InvalidPolicyDocument", "Invalid Policy: Invalid condition.", 400)
    extra = sorted(
        name for name in fields if name not in covered and name not in _UNCONDITIONED_FIELDS
        and not name.startswith("x-ignore-")
    )  # fmt: skip
    if extra:
        raise access_denied(f"Invalid according to Policy: Extra input fields: {extra[0]}")
    if "key" not in fields:
        raise S3Error("InvalidArgument", "Bucket POST must contain a field named 'key'.", 400)


# --- operations → IAM actions --------------------------------------------------------------------------
Need = tuple[str, str, dict[str, str]]


def required_actions(request: Request, body: bytes, form: dict[str, str]) -> list[Need] | None:
    """The IAM actions (action, resource ARN, condition context) a request needs; None = unmapped."""
    target = target_of(request)
    method = request.method
    params = set(request.args.keys())
    if not target.bucket:
        return [("s3:ListAllMyBuckets", "*", {})] if method == "GET" else None
    if not target.key:
        return _bucket_actions(request, target, method, params, body, form)
    obj = target.arn
    extra = params - _PLAIN_PARAMS
    versioned = "versionId" in params
    if method in ("GET", "HEAD"):
        if not extra:
            return [("s3:GetObjectVersion" if versioned else "s3:GetObject", obj, {})]
        if extra == {"uploadId"}:
            return [("s3:ListMultipartUploadParts", obj, {})]
        if extra == {"tagging"}:
            return [("s3:GetObjectTagging", obj, {})]
        return None
    if method == "PUT":
        if extra and extra not in ({"uploadId"}, {"tagging"}):
            return None
        action = "s3:PutObjectTagging" if extra == {"tagging"} else "s3:PutObject"
        needs: list[Need] = [(action, obj, {})]
        source = request.headers.get("x-amz-copy-source")
        if source:
            source_path = unquote(source.split("?", 1)[0]).lstrip("/")
            needs.append(("s3:GetObject", f"arn:aws:s3:::{source_path}", {}))
        return needs
    if method == "POST":
        if extra in ({"uploads"}, {"uploadId"}):
            return [("s3:PutObject", obj, {})]
        return None
    if method == "DELETE":
        if not extra:
            return [("s3:DeleteObjectVersion" if versioned else "s3:DeleteObject", obj, {})]
        if extra == {"uploadId"}:
            return [("s3:AbortMultipartUpload", obj, {})]
        return None
    return None


def _bucket_actions(request: Request, target: Target, method: str, params: set[str], body: bytes,
                    form: dict[str, str]) -> list[Need] | None:  # fmt: skip
    """Bucket-level operations (list, multi-delete, browser POST)."""
    bucket = target.arn
    if method in ("GET", "HEAD") and params <= _LIST_PARAMS:
        prefix = request.args.get("prefix", "")
        return [("s3:ListBucket", bucket, {"s3:prefix": prefix})]
    if method == "GET" and params - _PRESIGN_PARAMS == {"location"}:
        return [("s3:GetBucketLocation", bucket, {})]
    if method == "POST" and "delete" in params:
        text = body.decode("utf-8", "replace")
        keys = [html.unescape(k) for k in re.findall(r"<Key>(.*?)</Key>", text, re.S)]
        # All or nothing: S3 would report per-key AccessDenied inside a 200 instead.
        return [("s3:DeleteObject", f"{bucket}/{key}", {}) for key in keys] or None
    if method == "POST" and form.get("key"):
        return [("s3:PutObject", f"{bucket}/{form['key']}", {})]
    return None
