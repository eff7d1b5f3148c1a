"""The fault switch: make chosen requests fail, slow down or hang, so tests can cause what AWS does.

Off unless ``serve --faults`` (the test stack turns it on; ``make dev`` does not). When on,
``POST /_faults`` on the Cognito origin takes one of three JSON 1.1 operations, chosen by
``X-Amz-Target`` and SigV4-signed by the operator for the service ``localcloud`` (anything else is
refused as the Cognito APIs refuse it: ``iam.Authorizer``):

* ``LocalCloudFaults.PutFault`` ``{Match, Kind, Count?, Skip?, ErrorType?, Status?, Message?, Seconds?}``
  → ``{FaultId}``. ``Match`` names what to hit: an operation of either Cognito API (``GetUser``,
  ``UpdateUserAttributes``, ``GetCredentialsForIdentity``), an S3 action (``s3:PutObject``,
  ``s3:GetObject``, ``s3:DeleteObject``) or a path of the Cognito origin (``/oauth2/token``;
  ``/.well-known/jwks.json`` and ``/.well-known/openid-configuration`` for any pool's own documents,
  ``/{pool id}/.well-known/...``, and nothing else). The first
  ``Skip`` (default 0) matching requests pass, the next ``Count`` (default 1; 0 = until cleared)
  get the fault. ``Kind``: ``error`` (``ErrorType``/``Status``/``Message``, default a 500 internal
  error in the service's shape), ``throttle`` (Cognito's ``TooManyRequestsException`` 400, S3's
  ``SlowDown`` 503, 429 on the hosted UI's endpoints), ``delay`` (``Seconds``, then the request
  runs; ClearFaults cuts it short) or ``hang`` (held until the faults are cleared or ``Seconds``
  pass, default 60, then it runs: the client's timeout is what a test watches).
* ``LocalCloudFaults.ListFaults`` → ``{Faults: [{FaultId, Match, Kind, Skip, Remaining, Hits, …}]}``.
* ``LocalCloudFaults.ClearFaults`` → ``{Cleared: n}``; releases every hung request.
* ``LocalCloudFaults.AdvanceClock`` ``{Seconds}`` → ``{OffsetSeconds}``: moves the clock of sign-in
  challenge sessions and e-mailed sign-in codes (localcloud/clock.py) forward by ``Seconds`` (0 to
  86400), so a test expires a session (``AuthSessionValidity``, at least 3 minutes) without
  sleeping. Forward only, never reset (ClearFaults leaves it): it can end sessions early, never
  bring one back; nothing else (signatures, tokens, other codes, the lockout) reads that clock.

On the Cognito APIs and S3 a fault applies after the request's own checks (SigV4, parameters,
policies), just before it would run: a fault never lets through what would be refused, and a
refused request does not use one up. Hosted-UI paths are matched as they arrive.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from werkzeug.wrappers import Request, Response

from localcloud import awsjson, clock
from localcloud.s3.actions import required_actions
from localcloud.s3.errors import S3Error

PATH = "/_faults"
SERVICE = "localcloud"
TARGET_PREFIX = "LocalCloudFaults."
KINDS = frozenset({"error", "throttle", "delay", "hang"})
MAX_SECONDS = 300.0
DEFAULT_HANG = 60.0
MAX_FAULTS = 100
# An injected error's type: it goes into a JSON __type, an S3 <Code> and a header, so letters only.
ERROR_TYPE = re.compile(r"[A-Za-z][A-Za-z0-9.]{0,63}")
# A user pool's own discovery documents (the server routes these; faults match them by name).
WELL_KNOWN = re.compile(
    r"^/(?P<pool>[\w-]+_[0-9A-Za-z]+)/\.well-known/(?P<doc>openid-configuration|jwks\.json)$"
)
# What a request is called when it is matched: its service decides the shape of an injected error.
COGNITO, S3, PAGE = "cognito", "s3", "page"


@dataclass
class Fault:
    """One rule: which requests, how many, what happens to them."""

    match: str
    kind: str
    count: int
    skip: int
    error_type: str
    status: int | None
    message: str
    seconds: float
    fault_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    seen: int = 0
    hits: int = 0

    @property
    def remaining(self) -> int | None:
        """How many more requests get the fault (None: until cleared)."""
        return None if self.count == 0 else self.count - self.hits

    def describe(self) -> dict[str, Any]:
        """The rule as ListFaults shows it."""
        return {
            "FaultId": self.fault_id, "Match": self.match, "Kind": self.kind, "Skip": self.skip,
            "Count": self.count, "Remaining": self.remaining, "Hits": self.hits,
            "ErrorType": self.error_type, "Status": self.status, "Message": self.message,
            "Seconds": self.seconds,
        }  # fmt: skip


class FaultError(ValueError):
    """A PutFault whose parameters are wrong."""


def _number(params: dict[str, Any], name: str, default: float, high: float) -> float:
    value = params.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= high:
        raise FaultError(f"{name} must be a number from 0 to {high:g}")
    return float(value)


def _integer(params: dict[str, Any], name: str, default: int, high: int) -> int:
    value = params.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= high:
        raise FaultError(f"{name} must be an integer from 0 to {high}")
    return value


def _text(params: dict[str, Any], name: str, limit: int = 256) -> str:
    value = params.get(name, "")
    if not isinstance(value, str) or len(value) > limit:
        raise FaultError(f"{name} must be a string of at most {limit} characters")
    return value


def parse_fault(params: dict[str, Any]) -> Fault:
    """A Fault from PutFault's parameters; FaultError when they are wrong."""
    unknown = set(params) - {"Match", "Kind", "Count", "Skip", "ErrorType", "Status", "Message", "Seconds"}
    if unknown:
        raise FaultError(f"Unknown parameters: {', '.join(sorted(unknown))}")
    match, kind = _text(params, "Match", 128), params.get("Kind")
    if not match:
        raise FaultError("Match is required")
    if not isinstance(kind, str) or kind not in KINDS:
        raise FaultError(f"Kind must be one of {', '.join(sorted(KINDS))}")
    status = params.get("Status")
    if status is not None and (
        not isinstance(status, int) or isinstance(status, bool) or status not in range(400, 600)
    ):
        raise FaultError("Status must be an HTTP error status (400-599)")
    seconds = _number(params, "Seconds", DEFAULT_HANG if kind == "hang" else 0, MAX_SECONDS)
    error_type = _text(params, "ErrorType", 64)
    if error_type and not ERROR_TYPE.fullmatch(error_type):
        raise FaultError("ErrorType must be a letter then letters, digits or dots (at most 64)")
    return Fault(
        match=match,
        kind=kind,
        count=_integer(params, "Count", 1, 1_000_000),
        skip=_integer(params, "Skip", 0, 1_000_000),
        error_type=error_type,
        status=status,
        message=_text(params, "Message"),
        seconds=seconds,
    )


def match_key(path: str, target: str) -> str:
    """What a Cognito-origin request is called: its operation, or its path (pool ids left out)."""
    if target:
        return target.rsplit(".", 1)[-1]
    pool_document = WELL_KNOWN.fullmatch(path)
    if pool_document:
        return "/.well-known/" + pool_document["doc"]
    return path


def s3_action(request: Request, form: dict[str, str] | None = None) -> str:
    """The IAM action of an S3 request that passed the gate (the first it needs)."""
    try:
        needs = required_actions(request, b"", form or {})
    except S3Error:  # a DeleteObjects body is not read here
        needs = None
    if needs:
        return needs[0][0]
    return "s3:DeleteObject" if "delete" in request.args else ""


class FaultSwitch:
    """The rules in force (in memory, per process) and the requests they hold."""

    def __init__(self) -> None:
        """No faults. Held requests (delay, hang) wait on a condition for the generation to move:
        ClearFaults moves it, so it releases every held request whenever its fault was added."""
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._cleared = threading.Condition(self._lock)
        self._generation = 0

    # --- the operations -------------------------------------------------------------------------
    def handle(self, operation: str, params: dict[str, Any]) -> Response:
        """PutFault, ListFaults, ClearFaults or AdvanceClock (the caller checked the signature)."""
        if operation == "PutFault":
            try:
                fault = parse_fault(params)
            except FaultError as exc:
                return awsjson.error_response("InvalidParameterException", str(exc))
            with self._lock:
                if len(self._faults) >= MAX_FAULTS:
                    return awsjson.error_response("LimitExceededException", f"At most {MAX_FAULTS} faults")
                self._faults.append(fault)
            return awsjson.json_response({"FaultId": fault.fault_id})
        if operation == "ListFaults":
            with self._lock:
                return awsjson.json_response({"Faults": [f.describe() for f in self._faults]})
        if operation == "ClearFaults":
            with self._lock:
                cleared, self._faults = len(self._faults), []
                self._generation += 1
                self._cleared.notify_all()
            return awsjson.json_response({"Cleared": cleared})
        if operation == "AdvanceClock":
            return _advance_clock(params)
        return awsjson.error_response("UnknownOperationException", "Unknown operation")

    # --- the hook -------------------------------------------------------------------------------
    def _take(self, key: str) -> Fault | None:
        """The fault this request gets, counted; None when it runs normally."""
        with self._lock:
            for fault in self._faults:
                if fault.match != key or fault.remaining == 0:
                    continue
                fault.seen += 1
                if fault.seen <= fault.skip:
                    continue
                fault.hits += 1
                return fault
        return None

    def inject(self, key: str, service: str) -> Response | None:
        """An injected response for the request, or None to run it (after any delay or hang)."""
        if not key or not self._faults:
            return None
        fault = self._take(key)
        if fault is None:
            return None
        if fault.kind in {"delay", "hang"}:
            self._hold(fault.seconds)
            return None
        return _failure(fault, service)

    def _hold(self, seconds: float) -> None:
        """Wait seconds, or until the next ClearFaults (whichever comes first)."""
        with self._cleared:
            generation = self._generation
            self._cleared.wait_for(lambda: self._generation != generation, timeout=seconds)


def _advance_clock(params: dict[str, Any]) -> Response:
    """AdvanceClock {Seconds}: the challenge clock forward (localcloud/clock.py) → {OffsetSeconds}."""
    try:
        if set(params) - {"Seconds"}:
            raise FaultError(f"Unknown parameters: {', '.join(sorted(set(params) - {'Seconds'}))}")
        if "Seconds" not in params:
            raise FaultError("Seconds is required")
        seconds = _number(params, "Seconds", 0, clock.MAX_ADVANCE)
    except FaultError as exc:
        return awsjson.error_response("InvalidParameterException", str(exc))
    return awsjson.json_response({"OffsetSeconds": clock.advance(seconds)})


_THROTTLE = {
    COGNITO: ("TooManyRequestsException", "Rate exceeded", 400),
    S3: ("SlowDown", "Please reduce your request rate.", 503),
    PAGE: ("TooManyRequestsException", "Rate exceeded", 429),
}
_ERROR = {
    COGNITO: ("InternalErrorException", "Internal error (injected by localcloud's fault switch)", 500),
    S3: ("InternalError", "We encountered an internal error. Please try again.", 500),
    PAGE: ("server_error", "Internal error (injected by localcloud's fault switch)", 500),
}


def _failure(fault: Fault, service: str) -> Response:
    """The error response, in the shape of the service the request was for."""
    error_type, message, status = (_THROTTLE if fault.kind == "throttle" else _ERROR)[service]
    error_type, message = fault.error_type or error_type, fault.message or message
    status = fault.status or status
    if service == S3:
        return S3Error(error_type, message, status).response()
    if service == COGNITO:
        return awsjson.error_response(error_type, message, status)
    body = json.dumps({"error": error_type, "error_description": message})
    return Response(body, status=status, content_type="application/json;charset=UTF-8")
