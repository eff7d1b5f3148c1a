"""Waiting for something to become true, for as long as it takes and no longer."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(
    predicate: Callable[[], T], *, timeout: float = 10.0, interval: float = 0.05, what: str = ""
) -> T:
    """Call predicate every `interval` seconds until it returns something truthy, and return that.

    Fails the test if it is still falsy after `timeout` seconds, naming `what` was awaited.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(f"still not true after {timeout} s: {what or predicate}")
        time.sleep(interval)
