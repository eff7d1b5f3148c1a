"""The one WSGI app on one port: localcloud's own endpoints first, then moto for AWS APIs."""

from __future__ import annotations

import io
import json
import logging
import re
import threading
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from moto.core.exceptions import JsonRESTError
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Request, Response

from localcloud import awsjson, iam, moto_adapter, outbox
from localcloud.config import Config
from localcloud.hostedui import discovery
from localcloud.hostedui.views import HostedUI
from localcloud.identitypool import api as identity_api
from localcloud.identitypool.pool import IdentityPool
from localcloud.keys import KeyStore
from localcloud.s3.gate import Gate, S3Error
from localcloud.store import Store
from localcloud.userpool import api
from localcloud.userpool import backend as bk
from localcloud.userpool.models import install

# Requests to localcloud's own endpoints above this size are refused (Cognito's limits are far
# below it); S3 bodies go to moto untouched.
MAX_BODY = 256 * 1024
# S3 bodies are held in memory to be hashed and checked; larger uploads must use multipart.
S3_MAX_BODY = 100 * 1024 * 1024
logger = logging.getLogger(__name__)
WELL_KNOWN = re.compile(
    r"^/(?P<pool>[\w-]+_[0-9A-Za-z]+)/\.well-known/(?P<doc>openid-configuration|jwks\.json)$"
)


class LocalCloud:
    """The localcloud WSGI application."""

    def __init__(self, config: Config, data_dir: Path) -> None:
        """Load keys and state, seed the pool, and prepare moto's dispatcher."""
        self.config = config
        self.data_dir = data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        self.keys = KeyStore(data_dir, config.max_token_lifetime)
        install(self.keys)
        outbox.configure(data_dir)
        self.store = Store(data_dir)
        self.store.load()
        from localcloud.userpool.seed import seed

        self.pool, self.client = seed(config)
        self.store.save()
        self.identity = IdentityPool(config, data_dir, self.pool, self.client, self.keys)
        from localcloud.s3 import seed as s3_seed

        self.bucket = s3_seed.seed(config)
        self.operator = iam.operator_credentials(data_dir)
        self.iam = iam.Authorizer(self.operator, self.identity)
        self.gate = Gate(
            self.identity, config.region, self.operator.access_key_id, self.operator.secret_access_key
        )
        self.hosted = HostedUI(config)
        self.routes = self.hosted.routes()
        self.own_paths = set(self.routes) | {"/_health", "/_outbox", "/_outbox.json"}
        self.moto = DomainDispatcherApplication(create_backend_app)
        # moto's backends are not thread-safe; one lock serialises localcloud's own handlers and
        # every cognito-idp call (a development server has no need for more).
        self.lock = threading.RLock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        """WSGI entry point."""
        request = Request(environ)
        # Also bounds chunked bodies that announce no Content-Length (werkzeug stops reading).
        request.max_content_length = MAX_BODY
        path = request.path
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target.startswith(identity_api.TARGET_PREFIX):
            return self.identity_call(request, target[len(identity_api.TARGET_PREFIX) :])(
                environ, start_response
            )
        if target.startswith(api.TARGET_PREFIX):
            response = self.cognito_api(request, target[len(api.TARGET_PREFIX) :])
            if response is None:
                return self.to_moto(environ, start_response)
            return response(environ, start_response)
        if not _signed_for_other_service(environ) and (path in self.own_paths or WELL_KNOWN.match(path)):
            return self.local(request)(environ, start_response)
        if _is_s3(environ):
            return self.s3(environ, start_response)
        return self.to_moto(environ, start_response)

    def s3(self, environ: dict[str, Any], start_response: Any) -> Any:
        """An S3 request: CORS preflight, or signature + policy checks, then moto; bucket CORS applied."""
        request = Request(environ)
        request.max_content_length = S3_MAX_BODY
        try:
            if request.method == "OPTIONS":
                with self.lock:
                    response = self.gate.preflight(request)
            else:
                response = self._checked_s3(request)
            with self.lock:
                response = self.gate.apply_cors(request, response)
        except Exception:  # a bug must not surface as a traceback
            logger.exception("S3 request failed")
            response = S3Error("InternalError", "We encountered an internal error. Please try again.", 500)
            response = response.response()
        return response(environ, start_response)

    def _checked_s3(self, request: Request) -> Response:
        """Read the body once, check the request, and hand an identical copy to moto."""
        try:
            body = request.get_data()
        except RequestEntityTooLarge:
            return S3Error(
                "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size (localcloud)", 400
            ).response(request.path)
        environ = dict(request.environ)
        environ.pop("HTTP_TRANSFER_ENCODING", None)  # the body is now de-chunked with a length
        environ["wsgi.input_terminated"] = False
        environ["CONTENT_LENGTH"] = str(len(body))
        # The gate parses form bodies (browser POST) from its own copy of the stream.
        checked = Request({**environ, "wsgi.input": io.BytesIO(body)})
        with self.lock:
            denial = self.gate.check(checked, body)
            if denial is not None:
                return denial
            environ["wsgi.input"] = io.BytesIO(body)
            return Response.from_app(self.moto, environ, buffered=True)

    def to_moto(self, environ: dict[str, Any], start_response: Any) -> Any:
        """Hand a request to moto (STS, IAM...), buffered under the lock; never a Cognito call."""
        with self.lock:
            denial = iam.refuse_unchecked(moto_adapter.dispatch_service(self.moto, environ))
            if denial is not None:
                return denial(environ, start_response)
            response = Response.from_app(self.moto, environ, buffered=True)
        return response(environ, start_response)

    # --- localcloud's own pages and endpoints -------------------------------------------------
    def local(self, request: Request) -> Response:
        """Health, outbox, discovery and the hosted UI."""
        path = request.path
        if (request.content_length or 0) > MAX_BODY:
            return too_large(path)
        try:
            with self.lock:
                if path == "/_health":
                    return Response(
                        json.dumps({"status": "ok", "userPoolId": self.pool.id, "region": self.pool.region}),
                        content_type="application/json",
                    )
                if path == "/_outbox":
                    return self.hosted.outbox_page(request)
                if path == "/_outbox.json":
                    return self.hosted.outbox_json(request)
                match = WELL_KNOWN.match(path)
                if match:
                    pool = bk.pool_by_id(match["pool"])
                    if pool is None:
                        return awsjson.error_response(
                            "ResourceNotFoundException", "User pool does not exist.", 404
                        )
                    if match["doc"] == "jwks.json":
                        return discovery.jwks(pool)
                    return discovery.openid_configuration(request, pool)
                response = self.routes[path](request)
                if request.method == "POST":
                    self.store.save()
                return response
        except RequestEntityTooLarge:
            return too_large(path)
        except Exception:  # a bug must not leak a traceback to the browser
            logger.exception("%s failed", path)
            return Response(
                "Internal error (see the localcloud console)", status=500, content_type="text/plain"
            )

    # --- the cognito-identity JSON API ----------------------------------------------------------------
    def identity_call(self, request: Request, operation: str) -> Response:
        """An identity-pool operation (unsigned JSON 1.1), answered by localcloud alone."""
        body = awsjson.read_body(request)
        if isinstance(body, Response):
            return body
        raw, params = body
        if not re.fullmatch(r"[A-Za-z]{1,64}", operation):
            return awsjson.error_response("UnknownOperationException", "Unknown operation")
        denial = self.iam.check(request, "cognito-identity", operation, raw)
        if denial is not None:
            return denial
        try:
            with self.lock:
                return identity_api.handle(self.identity, operation, params)
        except Exception:
            logger.exception("cognito-identity %s failed", operation)
            return awsjson.error_response("InternalErrorException", "Internal error", 500)

    # --- the cognito-idp JSON API ------------------------------------------------------------------
    def cognito_api(self, request: Request, operation: str) -> Response | None:
        """Our handlers for the operations we own; None lets moto answer (region fixed first)."""
        body = awsjson.read_body(request)
        if isinstance(body, Response):
            return body
        raw, params = body
        if not re.fullmatch(r"[A-Za-z]{1,64}", operation):
            return awsjson.error_response("UnknownOperationException", "Unknown operation")
        denial = self.iam.check(request, "cognito-idp", operation, raw)
        if denial is not None:
            return denial
        try:
            with self.lock:
                response = api.handle(operation, params)
                if response is not None:
                    if operation not in api.READ_ONLY:
                        self.store.save()
                    return response
        except JsonRESTError as exc:
            return awsjson.error_response(exc.error_type, exc.message, exc.code)
        except Exception:
            logger.exception("cognito-idp %s failed", operation)
            return awsjson.error_response("InternalErrorException", "Internal error", 500)
        return self.moto_cognito(request, operation, params, raw)

    def moto_cognito(self, request: Request, operation: str, params: dict[str, Any], raw: bytes) -> Response:
        """Run moto's cognito-idp handler in the pool's region; never surface a 500 traceback."""
        environ = dict(request.environ)
        environ["wsgi.input"] = io.BytesIO(raw)
        environ["CONTENT_LENGTH"] = str(len(raw))
        if not environ.get("HTTP_AUTHORIZATION"):
            region = api.region_for(params) or self.pool.region
            # moto reads the region from the credential scope (it does not check signatures).
            environ["HTTP_AUTHORIZATION"] = (
                f"AWS4-HMAC-SHA256 Credential=localcloud/20240101/{region}/cognito-idp/aws4_request, "
                "SignedHeaders=host, Signature=unsigned"
            )
        with self.lock:
            try:
                response = Response.from_app(self.moto, environ, buffered=True)
                if operation not in api.READ_ONLY:
                    self.store.save()
            except NotImplementedError:
                return awsjson.error_response(
                    "UnsupportedOperationException", f"localcloud (moto) does not emulate {operation}"
                )
            except Exception:
                logger.exception("moto failed on cognito-idp %s", operation)
                return awsjson.error_response("InternalErrorException", "Internal error", 500)
        if response.status_code >= 500:
            # moto raises KeyError/TypeError on missing or mistyped parameters: that is bad input.
            logger.warning("moto failed on %s: %s", operation, response.get_data(as_text=True)[:500])
            return awsjson.error_response(
                "InvalidParameterException", f"Invalid or missing parameters for {operation}"
            )
        return response


def too_large(path: str) -> Response:
    """413 in the endpoint's own error shape (OAuth JSON for /oauth2/*, text for pages)."""
    if path.startswith("/oauth2/"):
        body = json.dumps({"error": "invalid_request", "error_description": "Request body too large"})
        return Response(body, status=413, content_type="application/json;charset=UTF-8")
    return Response("Request body too large", status=413, content_type="text/plain")


def _signed_for_other_service(environ: dict[str, Any]) -> bool:
    """A SigV4 request for another AWS service (e.g. S3 bucket 'login') always goes to moto."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    match = re.search(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/", auth)
    if match:
        return match.group(1) != "cognito-idp"
    return "X-Amz-Credential" in environ.get("QUERY_STRING", "")


def _is_s3(environ: dict[str, Any]) -> bool:
    """Whether moto would treat the request as S3 (its default for unsigned, target-less calls)."""
    if environ.get("PATH_INFO", "").startswith("/moto-api"):
        return False
    auth = environ.get("HTTP_AUTHORIZATION", "")
    if auth:
        match = re.search(r"Credential=[^/]+/[^/]+/[^/]+/([^/,]+)/", auth)
        # SigV2 ("AWS key:signature") and unparsable SigV4 headers are S3's too (moto would treat
        # them as S3 unchecked); the gate refuses them as S3 does.
        return match.group(1) == "s3" if match else auth.startswith(("AWS ", "AWS4-HMAC-SHA256"))
    if environ.get("HTTP_X_AMZ_TARGET"):
        return False
    credential = parse_qs(environ.get("QUERY_STRING", "")).get("X-Amz-Credential")
    if credential:
        # Fail closed: only a well-formed scope naming another service skips the S3 checks.
        parts = credential[0].split("/")
        return len(parts) != 5 or parts[3] == "s3"
    content_type = environ.get("CONTENT_TYPE", "")
    # Query-protocol APIs (STS AssumeRoleWithWebIdentity...) post a form with Action=.
    return not content_type.startswith("application/x-www-form-urlencoded")
