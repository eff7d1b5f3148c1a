"""Which IAM actions (on which resources, with which condition keys) an S3 request needs."""

from __future__ import annotations

import html
import re
from urllib.parse import unquote

from werkzeug.wrappers import Request

from localcloud.s3.auth import PRESIGN_PARAMS, Target, target_of

# Query parameters that do not change which operation an object/bucket request is.
_PLAIN_PARAMS = frozenset(
    {"versionId", "partNumber", "x-id", "response-content-type", "response-content-language",
     "response-expires", "response-cache-control", "response-content-disposition",
     "response-content-encoding"}
) | PRESIGN_PARAMS  # fmt: skip
_LIST_PARAMS = frozenset(
    {"list-type", "prefix", "delimiter", "marker", "max-keys", "encoding-type", "continuation-token",
     "start-after", "fetch-owner", "x-id", "optional-object-attributes"}
) | PRESIGN_PARAMS  # fmt: skip


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
    if method == "GET" and params - PRESIGN_PARAMS == {"location"}:
        return [("s3:GetBucketLocation", bucket, {})]
    if method == "POST" and "delete" in params:
        text = body.decode("utf-8", "replace")
        keys = [html.unescape(k) for k in re.findall(r"<Key>(.*?)</Key>", text, re.S)]
        # All or nothing: S3 would report per-key AccessDenied inside a 200 instead.
        return [("s3:DeleteObject", f"{bucket}/{key}", {}) for key in keys] or None
    if method == "POST" and form.get("key"):
        return [("s3:PutObject", f"{bucket}/{form['key']}", {})]
    return None
