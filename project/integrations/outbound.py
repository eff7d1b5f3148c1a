"""Every network call the integrations send, reported to whoever listens (tests, benchmarks).

Each integration object reports its calls here: the user pool's requests session (discovery,
JWKS, token endpoint, revocation) and every botocore client (cognito-idp, cognito-identity, S3,
django-storages' S3 included), through botocore's `before-send` event. So "this page view makes
no network call" is asserted with `recording()`, not by patching requests or botocore. Nothing
listens in production: a call then costs one empty-tuple check.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class OutboundCall:
    """One HTTP request about to leave the process (each retry is a call of its own)."""

    service: str  # "cognito" (the requests session) or botocore's service: "cognito-idp", "s3", ...
    method: str
    url: str
    operation: str = ""  # X-Amz-Target of the AWS JSON APIs ("AWSCognitoIdentityService.GetId")


Listener = Callable[[OutboundCall], None]

_lock = threading.Lock()
_listeners: tuple[Listener, ...] = ()  # replaced, never mutated: reporting takes no lock


def add_listener(listener: Listener) -> None:
    """Call `listener` with every outbound call from now on (any thread)."""
    global _listeners
    with _lock:
        _listeners = (*_listeners, listener)


def remove_listener(listener: Listener) -> None:
    global _listeners
    with _lock:
        _listeners = tuple(x for x in _listeners if x != listener)  # ==: bound methods are new each time


@contextmanager
def recording() -> Iterator[list[OutboundCall]]:
    """The calls made while the block runs, in order: `with recording() as calls: ...`."""
    calls: list[OutboundCall] = []
    add_listener(calls.append)
    try:
        yield calls
    finally:
        remove_listener(calls.append)


def listening() -> bool:
    return bool(_listeners)


def report(call: OutboundCall) -> None:
    for listener in _listeners:
        listener(call)


def _before_send(request: Any, event_name: str = "", **kwargs: Any) -> None:
    """botocore's before-send handler; returns None, or botocore would take it for the response."""
    if not _listeners:
        return
    target = request.headers.get("X-Amz-Target") or b""
    # "before-send.<service id>.<operation>"; the service id is botocore's, e.g. "cognito-identity".
    service = event_name.split(".")[1] if event_name.count(".") >= 2 else ""
    report(
        OutboundCall(
            service=service.lower(),
            method=request.method,
            url=request.url,
            operation=target.decode() if isinstance(target, bytes) else str(target),
        )
    )


def observe_client(client: Any) -> Any:
    """Report every request of a boto3 client (idempotent); returns the client."""
    client.meta.events.register("before-send", _before_send, unique_id="project-outbound")
    return client
