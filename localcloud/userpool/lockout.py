"""Cognito's lockout after repeated wrong passwords, for every password sign-in path.

Cognito: after five failed sign-in attempts a user is locked out for one second; the lockout then
doubles after each further failed attempt, up to about 15 minutes. Attempts during a lockout get
``NotAuthorizedException: Password attempts exceeded`` (the right password too) and do not
lengthen it; a successful sign-in resets the count. Unknown usernames are counted the same way,
so the lockout does not reveal which accounts exist. Kept in memory (lost on restart).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from moto.cognitoidp.exceptions import NotAuthorizedError

FREE_ATTEMPTS = 5
FIRST_LOCKOUT = 1.0
MAX_LOCKOUT = 15 * 60.0
# Records untouched this long are forgotten (the longest lockout has passed by then).
_FORGET_AFTER = 2 * MAX_LOCKOUT
_MAX_RECORDS = 10_000


@dataclass
class _Record:
    failures: int = 0
    locked_until: float = 0.0
    last_seen: float = 0.0


class Lockout:
    """Failed-attempt counts per (pool, user) with an injectable clock."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        """Start empty; clock returns seconds (monotonic in production, fake in tests)."""
        self.clock = clock
        self._records: dict[tuple[str, str], _Record] = {}
        self._lock = threading.Lock()

    def check(self, key: tuple[str, str]) -> None:
        """Raise Cognito's error while the key is locked out."""
        with self._lock:
            record = self._records.get(key)
            if record is not None and self.clock() < record.locked_until:
                raise NotAuthorizedError("Password attempts exceeded")

    def failed(self, key: tuple[str, str]) -> None:
        """Count a wrong password; from the fifth on, lock for 1 s, doubling, at most 15 min."""
        now = self.clock()
        with self._lock:
            record = self._records.setdefault(key, _Record())
            if now < record.locked_until:
                return  # attempts during a lockout do not lengthen it
            record.failures += 1
            record.last_seen = now
            if record.failures >= FREE_ATTEMPTS:
                lockout = min(FIRST_LOCKOUT * 2 ** (record.failures - FREE_ATTEMPTS), MAX_LOCKOUT)
                record.locked_until = now + lockout
            if len(self._records) > _MAX_RECORDS:
                self._forget_old(now)

    def succeeded(self, key: tuple[str, str]) -> None:
        """A successful sign-in resets the count."""
        with self._lock:
            self._records.pop(key, None)

    def _forget_old(self, now: float) -> None:
        for key in [k for k, r in self._records.items() if now - r.last_seen > _FORGET_AFTER]:
            del self._records[key]


LOCKOUT = Lockout()
