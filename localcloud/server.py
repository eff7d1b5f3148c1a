"""localcloud's two WSGI apps, one per origin, as on AWS.

* The Cognito origin (``LocalCloud``): the hosted UI, /oauth2/*, discovery, the outbox, health, and
  the cognito-idp and cognito-identity JSON APIs by ``X-Amz-Target``. cognito-idp operations
  localcloud does not answer itself go to moto's cognito-idp backend alone; nothing else reaches
  moto (no /moto-api, no S3, no STS): anything else is a 404/400 in AWS's JSON error shape.
* The S3 origin (``LocalCloud.s3``): every request is S3. The gate checks it, then moto's S3
  backend runs it directly, never through moto's dispatcher, so no header can make moto read it
  as another service. Responses are sandboxed (``Content-Security-Policy: sandbox``), so an
  uploaded HTML page cannot act for either origin.
"""

from __future__ import annotations

import io
import json
import logging
import re
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from moto.core.exceptions import JsonRESTError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.wrappers import Request, Response
from werkzeug.wsgi import ClosingIterator

from localcloud import awsjson, faults, iam, moto_adapter, outbox, validation
from localcloud.config import Config
from localcloud.files import private_dir
from localcloud.hostedui import discovery
from localcloud.hostedui.views import HostedUI
from localcloud.identitypool import api as identity_api
from localcloud.identitypool.pool import IdentityPool
from localcloud.idp import credentials as idp_files
from localcloud.idp.catalog import PREFIX as IDP_PREFIX
from localcloud.idp.server import FakeIdPs, clients_from_config
from localcloud.keys import KeyStore
from localcloud.s3.errors import S3Error, internal_error
from localcloud.s3.gate import Gate, as_s3_error
from localcloud.s3.sigv4 import SigV4Error
from localcloud.store import StateError, Store
from localcloud.userpool import (
    api,
    app_clients,  # noqa: F401 - registers the app-client operations
    federation,  # noqa: F401 - registers the federation operations
    passwordless,
    send_limit,
    services,
)
from localcloud.userpool import backend as bk
from localcloud.userpool.models import install

logger = logging.getLogger(__name__)

# Requests to the Cognito origin above this size are refused (Cognito's limits are far below it).
MAX_BODY = 256 * 1024
# A browser POST upload is spooled before its form can be checked: this much in memory, the rest
# in a temporary file (werkzeug's form parser also keeps large files on disk).
SPOOL_IN_MEMORY = 1024 * 1024
_CHUNK = 64 * 1024
# On every S3 response: an uploaded text/html object must not run as a page of any origin.
S3_SECURITY_HEADERS = {"Content-Security-Policy": "sandbox", "X-Content-Type-Options": "nosniff"}
WELL_KNOWN = faults.WELL_KNOWN


class LocalCloud:
    """The localcloud WSGI application."""

    def __init__(
        self, config: Config, data_dir: Path, latency_ms: int = 0, fault_switch: bool = False
    ) -> None:
        """Load keys and state, seed the pool and bucket, and prepare moto's two backend apps.

        fault_switch turns on POST /_faults (localcloud/faults.py; operator-signed calls only).
        """
        self.config = config
        self.data_dir = data_dir
        private_dir(data_dir)
        self.keys = KeyStore(data_dir, config.max_token_lifetime)
        install(self.keys)
        outbox.configure(data_dir)
        self.store = Store(data_dir)
        self.store.load()
        from localcloud.userpool.seed import client_named, seed, seed_identity_providers

        self.pool, self.client = seed(config)
        self.spa_client = (
            client_named(self.pool, config.spa_client["ClientName"]) if config.spa_client else None
        )
        passwordless.configure(config.email_code_seconds)
        send_limit.configure(config.limits["max_send_records"])
        services.configure_sessions(config.limits["max_challenge_sessions"])
        idp_credentials = idp_files.load(data_dir)
        seed_identity_providers(config, self.pool, idp_credentials)
        self.store.save()
        # The fake Google/Facebook/Apple/OIDC providers (localcloud/idp), with their own state.
        clients = clients_from_config(config.identity_providers, idp_credentials)
        self.fake_idps = FakeIdPs(idp_credentials, clients, config.fake_identities)
        # The identity pool accepts ID tokens of the clients its CognitoIdentityProviders list
        # (identity_pool.clients, by name; by default the app clients the seed made: web and spa).
        default = [c["ClientName"] for c in (config.app_client, config.spa_client) if c]
        names = config.identity_pool.get("clients") or default
        pool_clients = [client_named(self.pool, str(name)) for name in names]
        if None in pool_clients:
            raise StateError(f"identity_pool.clients {names}: not every one is a client of the user pool")
        self.identity = IdentityPool(config, data_dir, self.pool, pool_clients, self.keys)
        from localcloud.s3 import seed as s3_seed

        self.bucket = s3_seed.seed(config)
        self.operator = iam.operator_credentials(data_dir)
        self.iam = iam.Authorizer(self.operator, self.identity)
        self.gate = Gate(
            self.identity, config.region, self.operator.access_key_id, self.operator.secret_access_key
        )
        # moto's backends are not thread-safe; one lock serialises localcloud's own handlers and
        # every cognito-idp call (a development server has no need for more).
        self.lock = threading.RLock()
        self.hosted = HostedUI(config, self.lock, self.store.save, pool_id=self.pool.id)
        self.routes = self.hosted.routes()
        # Handlers that take the lock themselves (they call a provider over HTTP in between).
        self.unlocked = self.hosted.unlocked_routes()
        # localcloud's own pages: read-only, so nothing to save after them.
        self.own_pages = {
            "/_health": self.health,
            "/_outbox": self.hosted.outbox_page,
            "/_outbox.json": self.hosted.outbox_json,
        }
        self.own_paths = set(self.routes) | set(self.own_pages) | set(self.unlocked)
        # Each origin reaches exactly one moto service, never moto's dispatcher.
        self.moto_idp = moto_adapter.backend_app("cognito-idp")
        self.moto_s3 = moto_adapter.backend_app("s3")
        self.latency = max(latency_ms, 0) / 1000
        self.faults = faults.FaultSwitch() if fault_switch else None

    # --- the Cognito origin -----------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        """WSGI entry point of the Cognito origin."""
        if self.latency:
            # --latency-ms: a network round trip to a real Cognito (outside the lock, like one).
            time.sleep(self.latency)
        request = Request(environ)
        # Also bounds chunked bodies that announce no Content-Length (werkzeug stops reading).
        request.max_content_length = MAX_BODY
        path = request.path
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if path == faults.PATH and self.faults is not None:
            response = self.fault_call(request, target)
        else:
            response = self._route(request, path, target)
        return response(environ, start_response)

    def _route(self, request: Request, path: str, target: str) -> Response:
        """The response of the Cognito origin: by X-Amz-Target, else by path."""
        injected = None if target else self._fault(faults.match_key(path, target), faults.PAGE)
        if injected is not None:
            response = injected
        elif target.startswith(identity_api.TARGET_PREFIX):
            response = self.identity_call(request, target[len(identity_api.TARGET_PREFIX) :])
        elif target.startswith(api.TARGET_PREFIX):
            response = self.cognito_api(request, target[len(api.TARGET_PREFIX) :])
        elif target:
            response = awsjson.error_response(
                "UnknownOperationException", "Only cognito-idp and cognito-identity are served here"
            )
        elif path in self.own_paths or WELL_KNOWN.match(path) or path.startswith(IDP_PREFIX):
            response = self.local(request)
        else:
            # Not moto's: S3 has its own origin, and no other AWS API is emulated.
            response = awsjson.error_response("UnknownOperationException", "No such endpoint", 404)
        return response

    # --- the S3 origin --------------------------------------------------------------------------------
    def s3(self, environ: dict[str, Any], start_response: Any) -> Any:
        """WSGI entry point of the S3 origin: every request is S3, checked by the gate, then moto's S3."""
        request = Request(environ)
        try:
            if request.method == "OPTIONS":
                with self.lock:
                    response = self.gate.preflight(request)
            else:
                response = self._checked_s3(request)
        except (S3Error, SigV4Error) as exc:
            response = as_s3_error(exc).response(request.path)
        except Exception:  # a bug must not surface as a traceback
            logger.exception("S3 request failed: %s %s", request.method, request.path)
            response = internal_error().response()
        try:
            with self.lock:
                response = self.gate.apply_cors(request, response)
        except Exception:
            logger.exception("S3 CORS failed: %s %s", request.method, request.path)
            response = internal_error().response()
        response.headers.update(S3_SECURITY_HEADERS)
        limit = self.gate.body_limit(request)
        # After the answer is sent, drop what the client still sends of a refused body, so it
        # reads the answer instead of a reset connection.
        return ClosingIterator(response(environ, start_response), lambda: _discard_unread(request, limit))

    def _checked_s3(self, request: Request) -> Response:
        """Check the request before reading its body, then the body, then hand moto an identical copy."""
        limit = self.gate.body_limit(request)
        if (request.content_length or 0) > limit:
            raise _too_large()
        now = datetime.now(UTC)
        if self.gate.is_form_post(request):
            # Its signature is inside the form: spool the body (bounded, mostly on disk), parse, check.
            body, size = _spool(request, limit)
            with body:
                checked = Request({**_with_body(request.environ, body, size), "wsgi.input": body})
                try:
                    with self.lock:
                        self.gate.check_form(checked, now)
                except RequestEntityTooLarge:
                    raise _too_large() from None
                finally:
                    checked.close()
                injected = self._fault("s3:PutObject", faults.S3)
                if injected is not None:
                    return injected
                body.seek(0)
                return self._moto_s3(request, body, size)
        with self.lock:
            principal, payload = self.gate.check_head(request, now)
        # Authenticated, and authorised unless the body names the objects: only now read it.
        data = _read(request, limit)
        with self.lock:
            self.gate.check_body(principal, payload, request, data)
        injected = self._fault(faults.s3_action(request), faults.S3)
        if injected is not None:
            return injected
        request.environ[moto_adapter.RAW_BODY] = True  # moto reads the body the gate read, never a form
        return self._moto_s3(request, io.BytesIO(data), len(data))

    def _moto_s3(self, request: Request, body: IO[bytes], size: int) -> Response:
        """Run the checked request in moto's S3 backend app, with the body already read."""
        environ = _with_body(request.environ, body, size)
        # moto picks path-style or virtual-hosted addressing from Host; the gate read the path as
        # path-style, so moto must too (a Host of "<bucket>.s3.amazonaws.com" would shift the key).
        environ["HTTP_HOST"] = f"127.0.0.1:{environ.get('SERVER_PORT', '80')}"
        # moto raises (or answers 500) on configurations it cannot read: that is bad input, as on
        # the Cognito side, and S3 answers a malformed configuration with a 400.
        unreadable = S3Error(
            "InvalidRequest", "The request could not be processed (localcloud: moto cannot read it).", 400
        )
        try:
            with self.lock:
                response = Response.from_app(self.moto_s3, environ, buffered=True)
        except Exception:  # only moto's own code runs in the try
            logger.exception("moto's S3 raised on %s %s", request.method, request.full_path)
            return unreadable.response(request.path)
        if response.status_code >= 500:
            logger.warning("moto's S3 failed on %s %s: %s", request.method, request.full_path,
                           response.get_data(as_text=True)[:300])  # fmt: skip
            return unreadable.response(request.path)
        return response

    # --- localcloud's own pages and endpoints -------------------------------------------------
    def local(self, request: Request) -> Response:
        """Health, outbox, discovery and the hosted UI."""
        path = request.path
        if (request.content_length or 0) > MAX_BODY:
            return too_large(path)
        try:
            if path.startswith(IDP_PREFIX):
                return self.fake_idps(request)  # a separate "provider": its own state and lock
            if path in self.unlocked:
                return self.unlocked[path](request)
            with self.lock:
                return self._local_route(request, path)
        except RequestEntityTooLarge:
            return too_large(path)
        except Exception:  # a bug must not leak a traceback to the browser
            logger.exception("%s %s failed", request.method, path)
            return Response(
                "Internal error (see the localcloud console)", status=500, content_type="text/plain"
            )

    def _local_route(self, request: Request, path: str) -> Response:
        """The page or endpoint for a path (the caller holds the lock); the store is saved after a POST."""
        own_page = self.own_pages.get(path)
        if own_page is not None:
            return own_page(request)
        match = WELL_KNOWN.match(path)
        if match:
            pool = bk.pool_by_id(match["pool"])
            if pool is None:
                return awsjson.error_response("ResourceNotFoundException", "User pool does not exist.", 404)
            if match["doc"] == "jwks.json":
                return discovery.jwks(pool)
            return discovery.openid_configuration(request, pool)
        response = self.routes[path](request)
        if request.method == "POST":
            self.store.save()
        return response

    def health(self, request: Request) -> Response:
        """/_health: up, with the pool it serves."""
        return Response(
            json.dumps({"status": "ok", "userPoolId": self.pool.id, "region": self.pool.region}),
            content_type="application/json",
        )

    # --- both Cognito JSON APIs -------------------------------------------------------------------------
    def _checked_call(self, request: Request, service: str, operation: str) -> tuple[bytes, dict] | Response:
        """The body of a call that passed every check (JSON, operation name, SigV4, parameters)."""
        body = awsjson.read_body(request)
        if isinstance(body, Response):
            return body
        raw, params = body
        if not re.fullmatch(r"[A-Za-z]{1,64}", operation):
            return awsjson.error_response("UnknownOperationException", "Unknown operation")
        denial = self.iam.check(request, service, operation, raw)
        if denial is None:  # authenticated: now the parameters, against the service model
            denial = validation.check(service, operation, params)
        if denial is None:  # a request that would run: the fault switch may fail it instead
            denial = self._fault(operation, faults.COGNITO)
        return denial if denial is not None else (raw, params)

    # --- the fault switch (localcloud/faults.py; off unless serve --faults) -----------------------------
    def _fault(self, key: str, service: str) -> Response | None:
        """An injected failure for this request, or None (after any injected delay or hang)."""
        return None if self.faults is None else self.faults.inject(key, service)

    def fault_call(self, request: Request, target: str) -> Response:
        """POST /_faults: a LocalCloudFaults operation, signed by the operator (service "localcloud")."""
        if self.faults is None:
            return awsjson.error_response("UnknownOperationException", "No such endpoint", 404)
        body = awsjson.read_body(request)
        if isinstance(body, Response):
            return body
        raw, params = body
        operation = target.removeprefix(faults.TARGET_PREFIX)
        if not target.startswith(faults.TARGET_PREFIX) or not re.fullmatch(r"[A-Za-z]{1,64}", operation):
            return awsjson.error_response("UnknownOperationException", "Unknown operation")
        denial = self.iam.check(request, faults.SERVICE, operation, raw)
        if denial is not None:
            logger.warning("refused a fault-switch call (%s)", operation)
            return denial
        return self.faults.handle(operation, params)

    # --- the cognito-identity JSON API ----------------------------------------------------------------
    def identity_call(self, request: Request, operation: str) -> Response:
        """An identity-pool operation (unsigned JSON 1.1), answered by localcloud alone."""
        checked = self._checked_call(request, "cognito-identity", operation)
        if isinstance(checked, Response):
            return checked
        _raw, params = checked
        try:
            with self.lock:
                return identity_api.handle(self.identity, operation, params)
        except Exception:
            logger.exception("cognito-identity %s failed", operation)
            return awsjson.error_response("InternalErrorException", "Internal error", 500)

    # --- the cognito-idp JSON API ------------------------------------------------------------------
    def cognito_api(self, request: Request, operation: str) -> Response:
        """Our handlers for the operations we own; moto's cognito-idp for the rest (region fixed first)."""
        checked = self._checked_call(request, "cognito-idp", operation)
        if isinstance(checked, Response):
            return checked
        raw, params = checked
        without_nulls = validation.without_nulls(params)
        if without_nulls != params:  # AWS reads a JSON null as a member left out; so must moto
            params, raw = without_nulls, json.dumps(without_nulls).encode()
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
        # The JSON API lives at "/"; moto's other cognito-idp routes (its own JWKS) are not ours.
        environ["PATH_INFO"] = "/"
        if not environ.get("HTTP_AUTHORIZATION"):
            region = api.region_for(params) or self.pool.region
            # moto reads the region from the credential scope (it does not check signatures).
            environ["HTTP_AUTHORIZATION"] = (
                f"AWS4-HMAC-SHA256 Credential=localcloud/20240101/{region}/cognito-idp/aws4_request, "
                "SignedHeaders=host, Signature=unsigned"
            )
        with self.lock:
            try:
                response = Response.from_app(self.moto_idp, environ, buffered=True)
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


def _too_large() -> S3Error:
    """400 EntityTooLarge for a body over localcloud's cap."""
    message = "Your proposed upload exceeds the maximum allowed size (localcloud; use multipart)"
    return S3Error("EntityTooLarge", message, 400)


def _read(request: Request, limit: int) -> bytes:
    """The body (de-chunked), refusing more than limit bytes whatever the headers announced."""
    data = request.stream.read(limit + 1)
    if len(data) > limit:
        raise _too_large()
    return data


def _spool(request: Request, limit: int) -> tuple[IO[bytes], int]:
    """The body copied to a spooled temporary file (memory up to SPOOL_IN_MEMORY, then disk)."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115 - returned open
    size = 0
    try:
        while chunk := request.stream.read(_CHUNK):
            size += len(chunk)
            if size > limit:
                raise _too_large()
            spool.write(chunk)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool, size


def _with_body(environ: dict[str, Any], body: IO[bytes], size: int) -> dict[str, Any]:
    """A copy of environ whose input is body, de-chunked with a length."""
    copy = dict(environ)
    copy.pop("HTTP_TRANSFER_ENCODING", None)
    copy["wsgi.input"] = body
    copy["wsgi.input_terminated"] = False
    copy["CONTENT_LENGTH"] = str(size)
    return copy


def _discard_unread(request: Request, limit: int) -> None:
    """Read and drop the unread rest of a body in small chunks (never more than limit bytes)."""
    if (request.content_length or 0) > limit:
        return
    try:
        stream = request.stream
        for _ in range(limit // _CHUNK + 1):
            if not stream.read(_CHUNK):
                break
    except (OSError, ValueError, HTTPException):
        pass
