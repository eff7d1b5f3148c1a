"""Which IAM actions (on which resources, with which condition keys) an S3 request needs."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qs, unquote, urlparse
from xml.parsers import expat
from xml.parsers.expat import ExpatError

import xmltodict
from werkzeug.wrappers import Request

from localcloud.s3.auth import PRESIGN_PARAMS, Target, target_of
from localcloud.s3.errors import S3Error

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


# S3 takes at most 1000 keys per DeleteObjects request.
MAX_DELETE_KEYS = 1000
# DeleteObjects' schema nests 3 elements deep (Delete/Object/Key); deeper bodies are refused unbuilt.
MAX_XML_DEPTH = 8
Need = tuple[str, str, dict[str, str]]


# Every other XML body (configurations, tagging, CompleteMultipartUpload, CreateBucket) is checked
# for shape too before moto parses it; their schemas nest at most about 6 deep.
MAX_CONFIG_DEPTH = 32
# An object PUT/POST with only these parameters carries data (PutObject, UploadPart), not XML.
_DATA_PARAMS = frozenset({"partNumber", "versionId", "x-id"}) | PRESIGN_PARAMS
# S3's sub-resources; query parameters are case-sensitive, so "?Delete" is none of them.
SUBRESOURCES = frozenset(
    {"delete", "tagging", "cors", "lifecycle", "policy", "acl", "versioning", "website", "uploads",
     "uploadId", "partNumber", "versionId", "versions", "location", "logging", "notification",
     "replication", "encryption", "accelerate", "requestPayment", "object-lock", "retention",
     "legal-hold", "restore", "select", "select-type", "ownershipControls", "publicAccessBlock",
     "inventory", "analytics", "metrics", "intelligent-tiering", "attributes", "torrent",
     "policyStatus", "list-type"}
)  # fmt: skip
_SUBRESOURCES_FOLDED = {name.lower(): name for name in SUBRESOURCES}


def wrong_case_subresource(request: Request) -> str | None:
    """A query parameter that is a sub-resource in the wrong case (moto would misroute it)."""
    for name in request.args:
        if name not in SUBRESOURCES and name.lower() in _SUBRESOURCES_FOLDED:
            return name
    return None


def xml_body(request: Request) -> bool:
    """Whether moto parses this request's body as XML (everything but object data and a JSON policy)."""
    if request.method not in ("PUT", "POST") or "policy" in request.args:
        return False
    params = set(request.args)
    if target_of(request).key and request.method == "PUT" and params <= _DATA_PARAMS | {"uploadId"}:
        return False  # PutObject, UploadPart, CopyObject
    return True


def check_xml_body(body: bytes) -> None:
    """MalformedXML for a DOCTYPE, deep nesting or broken XML in a body moto will parse."""
    if not body:
        return
    try:
        _check_xml_shape(body, MAX_CONFIG_DEPTH)
    except (ExpatError, ValueError):
        raise malformed_xml() from None


def needs_body(request: Request) -> bool:
    """Whether the actions depend on the body (DeleteObjects names its keys there)."""
    return request.method == "POST" and "delete" in request.args


def delete_objects(body: bytes) -> list[tuple[str, str | None]]:
    """(key, version id) of each object a DeleteObjects body names, parsed exactly as moto parses it.

    moto runs ``xmltodict.parse(body, strip_whitespace=False)["Delete"]["Object"]`` and deletes
    ``obj["Key"]``; any body whose reading could differ from that is refused, never guessed at.
    """
    try:
        _check_xml_shape(body)
        document = xmltodict.parse(body, strip_whitespace=False)
    except (ExpatError, ValueError):  # expat errors, bad encodings, entity declarations (disabled)
        raise malformed_xml() from None
    delete = document.get("Delete") if isinstance(document, dict) else None
    objects = delete.get("Object", []) if isinstance(delete, dict) else None
    if isinstance(objects, dict):
        objects = [objects]
    if not isinstance(objects, list) or not objects or len(objects) > MAX_DELETE_KEYS:
        raise malformed_xml()
    found = []
    for item in objects:
        key = item.get("Key") if isinstance(item, dict) else None
        version = item.get("VersionId") if isinstance(item, dict) else None
        if not isinstance(key, str) or not key or not isinstance(version, str | None):
            raise malformed_xml()
        found.append((key, version))
    return found


def _check_xml_shape(body: bytes, max_depth: int = MAX_XML_DEPTH) -> None:
    """ValueError for a DOCTYPE (entities: billion laughs) or nesting beyond MAX_XML_DEPTH.

    A streaming expat pass that stops at the first offence, before xmltodict builds anything.
    """
    parser = expat.ParserCreate()
    depth = 0

    def start(name: str, attributes: object) -> None:
        nonlocal depth
        depth += 1
        if depth > max_depth:
            raise ValueError("nested too deeply")

    def end(name: str) -> None:
        nonlocal depth
        depth -= 1

    def doctype(*args: object) -> None:
        raise ValueError("DOCTYPE not allowed")

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.StartDoctypeDeclHandler = doctype
    parser.Parse(body, True)


def copy_source_need(source: str) -> Need:
    """The read a copy needs, with x-amz-copy-source parsed exactly as moto parses it.

    moto runs ``urlparse`` (which also cuts at ``#`` and ``;``, and reads ``//x`` as a host), then
    ``unquote(path).lstrip("/").split("/", 1)`` for bucket and key, and ``versionId`` from the query.
    """
    parsed = urlparse(source)
    bucket, slash, key = unquote(parsed.path).lstrip("/").partition("/")
    if not slash:
        message = "Copy Source must mention the source bucket and key: sourcebucket/sourcekey"
        raise S3Error("InvalidArgument", message, 400)
    versioned = parse_qs(parsed.query).get("versionId", [None])[0] is not None
    return ("s3:GetObjectVersion" if versioned else "s3:GetObject", f"arn:aws:s3:::{bucket}/{key}", {})


def malformed_xml() -> S3Error:
    """400 MalformedXML, S3's answer to a body that is not the schema it expects."""
    message = "The XML you provided was not well-formed or did not validate against our published schema."
    return S3Error("MalformedXML", message, 400)


def required_actions(request: Request, body: bytes, form: dict[str, str]) -> list[Need] | None:
    """The IAM actions (action, resource ARN, condition context) a request needs; None = unmapped."""
    target = target_of(request)
    method = request.method
    params = set(request.args.keys())
    if not target.bucket:
        return [("s3:ListAllMyBuckets", "*", {})] if method == "GET" else None
    if not target.key:
        return _bucket_actions(request, target, method, params, body, form)
    handler = _OBJECT_ACTIONS.get(method)
    if handler is None:
        return None
    return handler(request, target.arn, params - _PLAIN_PARAMS, "versionId" in params)


def _object_read(request: Request, obj: str, extra: set[str], versioned: bool) -> list[Need] | None:
    """GET/HEAD on an object: the object (or a version), its parts list or its tags."""
    if not extra:
        return [("s3:GetObjectVersion" if versioned else "s3:GetObject", obj, {})]
    if extra == {"uploadId"}:
        return [("s3:ListMultipartUploadParts", obj, {})]
    if extra == {"tagging"}:
        return [("s3:GetObjectTagging", obj, {})]
    return None


def _object_put(request: Request, obj: str, extra: set[str], versioned: bool) -> list[Need] | None:
    """PUT of an object, a part or tags; a copy also reads its source."""
    if extra and extra not in ({"uploadId"}, {"tagging"}):
        return None
    action = "s3:PutObjectTagging" if extra == {"tagging"} else "s3:PutObject"
    needs: list[Need] = [(action, obj, {})]
    source = request.headers.get("x-amz-copy-source")
    if source:
        needs.append(copy_source_need(source))
    return needs


def _object_post(request: Request, obj: str, extra: set[str], versioned: bool) -> list[Need] | None:
    """POST on an object: starting or completing a multipart upload."""
    if extra in ({"uploads"}, {"uploadId"}):
        return [("s3:PutObject", obj, {})]
    return None


def _object_delete(request: Request, obj: str, extra: set[str], versioned: bool) -> list[Need] | None:
    """DELETE of an object (or a version), or abandoning a multipart upload."""
    if not extra:
        return [("s3:DeleteObjectVersion" if versioned else "s3:DeleteObject", obj, {})]
    if extra == {"uploadId"}:
        return [("s3:AbortMultipartUpload", obj, {})]
    return None


# Object-level requests by method: handler(request, object ARN, non-plain parameters, versioned?).
_OBJECT_ACTIONS: dict[str, Callable[[Request, str, set[str], bool], list[Need] | None]] = {
    "GET": _object_read,
    "HEAD": _object_read,
    "PUT": _object_put,
    "POST": _object_post,
    "DELETE": _object_delete,
}


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
        # All or nothing: S3 would report per-key AccessDenied inside a 200 instead.
        return [
            ("s3:DeleteObjectVersion" if version else "s3:DeleteObject", f"{bucket}/{key}", {})
            for key, version in delete_objects(body)
        ]
    if method == "POST" and form.get("key"):
        return [("s3:PutObject", f"{bucket}/{form['key']}", {})]
    return None
