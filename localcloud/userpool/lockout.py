"""Cognito's lockout after repeated wrong passwords, for every password sign-in path.

Cognito (developer guide, "Lockout behavior for failed sign-in attempts"): after five failed
sign-in attempts a user is locked out for one second; the lockout then doubles after each further
failed attempt (2^(n-5) s), up to about 15 minutes. Attempts during a lockout get
``NotAuthorizedException: Password attempts exceeded`` (the right password too) and do not
lengthen it. The count goes back to zero when the user signs in successfully, or when no sign-in
attempt at all is made for 15 consecutive minutes at any time after a lockout. Unknown usernames
are counted the same way, so the lockout does not reveal which accounts exist.

Kept in memory (lost on restart), keyed by (pool id, SHA-256 of the username), in ONE table for
every name, existing or not: the store is never told whether a user exists, so nothing it keeps or
drops can tell an existing name from an unknown one. The table is kept in last-attempt order and
holds at most ``max_records`` records (MAX_RECORDS, 100,000). When it is full, a new name takes the
place of a *quiet* record (no attempt for QUIET_RESET, 15 minutes: its state is what the quiet reset
gives, or close to it), oldest first; if no record is quiet, nothing is evicted and the new name's
attempt is refused with the lockout answer ("Password attempts exceeded") and a warning is logged
(fail closed: a flood of names can neither unlock anyone nor grow memory; names already in the
table keep being counted). ``forget`` drops a record (a completed sign-in, or the user was deleted).

Memory: at most max_records records, about 300 bytes each (some 30 MB at 100,000).
"""

from __future__ import annotations

import hashlib
import logging
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
MAX_RECORDS = 100_000
# A full table logs its warning at most this often (a flood must not flood the log too).
WARN_EVERY = 60.0

logger = logging.getLogger(__name__)

Key = tuple[str, bytes]


@dataclass(slots=True)
class _Record:
    failures: int = 0
    locked_until: float = 0.0
    last_attempt: float = 0.0


class Lockout:
    """Failed-attempt counts per (pool, name) with an injectable clock and a fixed capacity."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, max_records: int = MAX_RECORDS) -> None:
        """Start empty; clock returns seconds (monotonic in production, fake in tests)."""
        self.clock = clock
        self.max_records = max_records
        # Every name, in last-attempt order (each attempt moves its record to the end).
        self._records: OrderedDict[Key, _Record] = OrderedDict()
        self._lock = threading.Lock()
        self._warned: float | None = None

    def __len__(self) -> int:
        """How many records are kept."""
        return len(self._records)

    @staticmethod
    def _key(key: tuple[str, str]) -> Key:
        """A fixed-size key: the username's digest, never the name itself."""
        pool_id, username = key
        return pool_id, hashlib.sha256(username.encode("utf-8", "surrogatepass")).digest()

    def _current(self, key: Key, now: float) -> _Record | None:
        """The key's record, or None (dropped) when quiet QUIET_RESET after a lockout."""
        record = self._records.get(key)
        if record is None:
            return None
        if record.failures >= FREE_ATTEMPTS and now - record.last_attempt >= QUIET_RESET:
            del self._records[key]
            return None
        return record

    def _make_room(self, now: float) -> None:
        """Before a new name's record: evict quiet records, oldest first, or refuse (fail closed)."""
        while len(self._records) >= self.max_records:
            oldest = next(iter(self._records.values()))
            if now - oldest.last_attempt < QUIET_RESET:  # the oldest is not quiet: none is
                if self._warned is None or now - self._warned >= WARN_EVERY:
                    self._warned = now
                    logger.warning(
                        "lockout table full (%d records, none quiet for %d s): refusing new names",
                        len(self._records), QUIET_RESET,
                    )  # fmt: skip
                raise NotAuthorizedError("Password attempts exceeded")
            self._records.popitem(last=False)

    def _touch(self, key: Key, now: float) -> _Record:
        """The key's record (a new one if needed, room permitting), stamped with this attempt."""
        record = self._current(key, now)
        if record is None:
            self._make_room(now)
            record = self._records[key] = _Record()
        else:
            self._records.move_to_end(key)
        record.last_attempt = now
        return record

    def check(self, key: tuple[str, str]) -> None:
        """A sign-in attempt begins: raise Cognito's error while the key is locked out.

        A name without a record gets none here, but is refused when the table is full and holds
        no quiet record (fail closed).
        """
        now = self.clock()
        hashed = self._key(key)
        with self._lock:
            if self._current(hashed, now) is None:
                self._make_room(now)
                return
            record = self._touch(hashed, now)
            if now < record.locked_until:
                raise NotAuthorizedError("Password attempts exceeded")

    def failed(self, key: tuple[str, str]) -> None:
        """Count a wrong password; from the fifth on, lock for 1 s, doubling, at most 15 min."""
        now = self.clock()
        hashed = self._key(key)
        with self._lock:
            record = self._touch(hashed, now)
            if now >= record.locked_until:  # attempts during a lockout do not lengthen it
                record.failures += 1
                if record.failures >= FREE_ATTEMPTS:
                    lockout = min(FIRST_LOCKOUT * 2 ** (record.failures - FREE_ATTEMPTS), MAX_LOCKOUT)
                    record.locked_until = now + lockout

    def succeeded(self, key: tuple[str, str]) -> None:
        """A successful sign-in resets the count."""
        self.forget(key)

    def forget(self, key: tuple[str, str]) -> None:
        """Drop the key's record (a successful sign-in, or the user was deleted)."""
        with self._lock:
            self._records.pop(self._key(key), None)


LOCKOUT = Lockout()
