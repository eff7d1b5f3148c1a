"""Cognito's lockout after repeated wrong passwords, for every password sign-in path.

Cognito (developer guide, "Lockout behavior for failed sign-in attempts"): after five failed
sign-in attempts a user is locked out for one second; the lockout then doubles after each further
failed attempt (2^(n-5) s), up to about 15 minutes. Attempts during a lockout get
``NotAuthorizedException: Password attempts exceeded`` (the right password too) and do not
lengthen it. The count goes back to zero when the user signs in successfully, or when no sign-in
attempt at all is made for 15 consecutive minutes at any time after a lockout. Unknown usernames
are counted the same way, so the lockout does not reveal which accounts exist.

Kept in memory (lost on restart), keyed by (pool id, SHA-256 of the username), in three tables so
that a flood of distinct names can neither grow memory nor unlock anyone:

* users that exist in the pool (the caller says so): never evicted; bounded by the pools' sizes
  (``forget`` drops a record when its user is deleted);
* unknown names below the lockout threshold: an LRU of at most ``max_records`` (10,000);
* unknown names at or past the threshold: at most ``max_locked`` (10,000), evicting the one whose
  quiet reset is nearest (the oldest last attempt). A flood of fresh names only fills the first LRU,
  so an unknown name that is locked stays locked like an existing one (no enumeration oracle for a
  single flood); to push a locked unknown name out, 10,000 other names must each be locked.

Memory: at most max_records + max_locked unknown-name records (20,000, a few MB) plus one record
per existing user that failed a sign-in.
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
MAX_LOCKED = 10_000

Key = tuple[str, bytes]


@dataclass
class _Record:
    failures: int = 0
    locked_until: float = 0.0
    last_attempt: float = 0.0


class Lockout:
    """Failed-attempt counts per (pool, user) with an injectable clock."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        max_records: int = MAX_RECORDS,
        max_locked: int = MAX_LOCKED,
    ) -> None:
        """Start empty; clock returns seconds (monotonic in production, fake in tests)."""
        self.clock = clock
        self.max_records = max_records
        self.max_locked = max_locked
        # Existing users: never evicted. Unknown names: below / at or past the threshold. Both
        # unknown tables are kept in last-attempt order (every touch moves a record to the end).
        self._users: dict[Key, _Record] = {}
        self._records: OrderedDict[Key, _Record] = OrderedDict()
        self._locked: OrderedDict[Key, _Record] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """How many records are kept."""
        return len(self._users) + len(self._records) + len(self._locked)

    @staticmethod
    def _key(key: tuple[str, str]) -> Key:
        """A fixed-size key: the username's digest, never the name itself."""
        pool_id, username = key
        return pool_id, hashlib.sha256(username.encode("utf-8", "surrogatepass")).digest()

    def _pop(self, key: Key) -> _Record | None:
        """Remove the key's record from whichever table holds it."""
        for table in (self._users, self._records, self._locked):
            record = table.pop(key, None)
            if record is not None:
                return record
        return None

    def _store(self, key: Key, record: _Record, known: bool) -> None:
        """(Re)file a record at the end of its table, evicting unknown names beyond the caps."""
        if known:
            self._users[key] = record
        elif record.failures >= FREE_ATTEMPTS:
            self._locked[key] = record
            while len(self._locked) > self.max_locked:
                self._locked.popitem(last=False)  # the nearest quiet reset
        else:
            self._records[key] = record
            while len(self._records) > self.max_records:
                self._records.popitem(last=False)

    def _current(self, key: Key, now: float) -> _Record | None:
        """The key's record (taken out of its table), or None when quiet QUIET_RESET after a lockout."""
        record = self._pop(key)
        if record is None:
            return None
        if record.failures >= FREE_ATTEMPTS and now - record.last_attempt >= QUIET_RESET:
            return None
        return record

    def check(self, key: tuple[str, str], *, known: bool = False) -> None:
        """A sign-in attempt begins: raise Cognito's error while the key is locked out.

        known: the username belongs to a user of the pool (its record is then never evicted).
        """
        now = self.clock()
        hashed = self._key(key)
        with self._lock:
            record = self._current(hashed, now)
            if record is None:
                return
            record.last_attempt = now
            self._store(hashed, record, known)
            if now < record.locked_until:
                raise NotAuthorizedError("Password attempts exceeded")

    def failed(self, key: tuple[str, str], *, known: bool = False) -> None:
        """Count a wrong password; from the fifth on, lock for 1 s, doubling, at most 15 min."""
        now = self.clock()
        hashed = self._key(key)
        with self._lock:
            record = self._current(hashed, now) or _Record()
            record.last_attempt = now
            if now >= record.locked_until:  # attempts during a lockout do not lengthen it
                record.failures += 1
                if record.failures >= FREE_ATTEMPTS:
                    lockout = min(FIRST_LOCKOUT * 2 ** (record.failures - FREE_ATTEMPTS), MAX_LOCKOUT)
                    record.locked_until = now + lockout
            self._store(hashed, record, known)

    def succeeded(self, key: tuple[str, str]) -> None:
        """A successful sign-in resets the count."""
        self.forget(key)

    def forget(self, key: tuple[str, str]) -> None:
        """Drop the key's record (a successful sign-in, or the user was deleted)."""
        with self._lock:
            self._pop(self._key(key))


LOCKOUT = Lockout()
