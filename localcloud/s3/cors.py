"""CORS for S3: preflights answered from the bucket's rules, and those rules' headers on responses."""

from __future__ import annotations

import re
from typing import Any

from werkzeug.wrappers import Request, Response

from localcloud.s3 import seed as s3_seed
from localcloud.s3.auth import target_of
from localcloud.s3.errors import access_denied


def cors_rule(bucket: str, origin: str, method: str, headers: list[str]) -> Any | None:
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


def preflight(request: Request) -> Response:
    """Answer an OPTIONS preflight from the bucket's CORS rules (403 when none matches)."""
    origin = request.headers.get("Origin", "")
    method = request.headers.get("Access-Control-Request-Method", "")
    wanted = [h.strip() for h in request.headers.get("Access-Control-Request-Headers", "").split(",")]
    wanted = [h for h in wanted if h]
    bucket = target_of(request).bucket
    rule = cors_rule(bucket, origin, method, wanted) if origin and method else None
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


def apply_cors(request: Request, response: Response) -> Response:
    """Replace moto's blanket CORS headers by the bucket rule's (none when no rule matches)."""
    if request.method == "OPTIONS":
        return response
    for name in list(response.headers.keys()):
        if name.lower().startswith("access-control-"):
            del response.headers[name]
    origin = request.headers.get("Origin", "")
    if origin:
        rule = cors_rule(target_of(request).bucket, origin, request.method, [])
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
