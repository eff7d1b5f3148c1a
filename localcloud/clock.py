"""The clock that sign-in challenge sessions and e-mailed sign-in codes are timed by.

It is the wall clock plus an offset that only the fault switch's ``AdvanceClock`` moves
(``serve --faults``, operator-signed; localcloud/faults.py), and only forward: a test expires a
session (the client's ``AuthSessionValidity``, at least 3 minutes) without sleeping, and nothing can
bring an expired session or code back. Nothing else reads it: SigV4 dates, tokens, codes by e-mail
for sign-up or reset, the lockout and TOTP keep the real clock.
"""

from __future__ import annotations

import threading
import time

# At most a day per call: more than any challenge session or code lives.
MAX_ADVANCE = 86400.0

_lock = threading.Lock()
_offset = [0.0]


def now() -> float:
    """Seconds since the epoch, as challenge sessions see them."""
    return time.time() + _offset[0]


def advance(seconds: float) -> float:
    """Move the clock forward by seconds (0 to MAX_ADVANCE); the total offset so far."""
    if not 0 <= seconds <= MAX_ADVANCE:
        raise ValueError(f"seconds must be from 0 to {MAX_ADVANCE:g}")
    with _lock:
        _offset[0] += seconds
        return _offset[0]


def offset() -> float:
    """How far the clock has been moved forward in all."""
    return _offset[0]
