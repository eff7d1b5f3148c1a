"""Cognito's lockout after repeated wrong passwords, for every password sign-in path.

Cognito (developer guide, "Lockout behavior for failed sign-in attempts"): after five failed
sign-in attempts a user is locked out for one second; the lockout then doubles after each further
failed attempt (2^(n-5) s), up to about 15 minutes. Attempts during a lockout get
``NotAuthorizedException: Password attempts exceeded`` (the right password too) and do not
lengthen it. The count goes back to zero when the user signs in successfully, or when no sign-in
attempt at all is made for 15 consecutive minutes at any time after a lockout. Unknown usernames
are counted the same way, so the lockout does not reveal which accounts exist.

Kept in memory (lost on restart), keyed by (pool id, SHA-256 of the username), in an LRU bounded at
MAX_RECORDS entries: a flood of distinct names cannot grow it (the least recently attempted record
is forgotten first).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from moto.cognitoidp.exceptions import NotAuthorizedError

FREE_ATTEMPTS = 5
FIRST_LOCKOUT = 1.0
MAX_LOCKOUT = 15 * 60.0
# After a lockout, this long without any sign-in attempt resets the count (AWS documents 15 minutes).
QUIET_RESET = 15 * 60.0
MAX_RECORDS = 10_000


@dataclass
class _Record:
    failures: int = 0
    locked_until: float = 0.0
    last_attempt: float = 0.0


class Lockout:
    """Failed-attempt counts per (pool, user) with an injectable clock."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, max_records: int = MAX_RECORDS) -> None:
        """Start empty; clock returns seconds (monotonic in production, fake in tests)."""
        self.clock = clock
        self.max_records = max_records
        self._records: OrderedDict[tuple[str, bytes], _Record] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """How many records are kept."""
        return len(self._records)

    @staticmethod
    def _key(key: tuple[str, str]) -> tuple[str, bytes]:
        """A fixed-size key: the username's digest, never the name itself."""
        pool_id, username = key
        return pool_id, hashlib.sha256(username.encode("utf-8", "surrogatepass")).digest()

    def _current(self, key: tuple[str, bytes], now: float) -> _Record | None:
        """The key's record, forgotten when it has been quiet QUIET_RESET since a lockout."""
        record = self._records.get(key)
        if record is None:
            return None
        if record.failures >= FREE_ATTEMPTS and now - record.last_attempt >= QUIET_RESET:
            del self._records[key]
            return None
        self._records.move_to_end(key)
        return record

    def check(self, key: tuple[str, str]) -> None:
        """A sign-in attempt begins: raise Cognito's error while the key is locked out."""
        now = self.clock()
        with self._lock:
            record = self._current(self._key(key), now)
            if record is None:
                return
            record.last_attempt = now
            if now < record.locked_until:
                raise NotAuthorizedError("Password attempts exceeded")

    def failed(self, key: tuple[str, str]) -> None:
        """Count a wrong password; from the fifth on, lock for 1 s, doubling, at most 15 min."""
        now = self.clock()
        hashed = self._key(key)
        with self._lock:
            record = self._current(hashed, now)
            if record is None:
                record = self._records[hashed] = _Record()
                while len(self._records) > self.max_records:
                    self._records.popitem(last=False)
            record.last_attempt = now
            if now < record.locked_until:
                return  # attempts during a lockout do not lengthen it
            record.failures += 1
            if record.failures >= FREE_ATTEMPTS:
                lockout = min(FIRST_LOCKOUT * 2 ** (record.failures - FREE_ATTEMPTS), MAX_LOCKOUT)
                record.locked_until = now + lockout

    def succeeded(self, key: tuple[str, str]) -> None:
        """A successful sign-in resets the count."""
        with self._lock:
            self._records.pop(self._key(key), None)


LOCKOUT = Lockout()
