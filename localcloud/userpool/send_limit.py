"""How many reset (and sign-up confirmation) codes one name may be sent: Cognito refuses more after
a few within an hour.

Cognito answers ForgotPassword with ``LimitExceededException: Attempt limit exceeded, please try
after some time.`` once a user asked too often. AWS does not publish the exact numbers; localcloud
allows MAX_SENDS (5) per WINDOW (1 hour) per (pool, name). Unknown names are counted the same way
(by unknown_name_key), so the limit does not tell which accounts exist when existence is hidden.

Kept in memory, keyed by the name's SHA-256, at most MAX_RECORDS names: when full, names whose
sends are all older than WINDOW are dropped (oldest first); if none is, the new name is refused
(fail closed: a flood of names can neither grow memory nor reset anyone's count).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

MAX_SENDS = 5
WINDOW = 3600.0
MAX_RECORDS = 100_000


class SendLimit:
    """Sliding-window send counts per (pool, name), with an injectable clock and fixed capacity."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, max_records: int = MAX_RECORDS) -> None:
        """Start empty."""
        self.clock = clock
        self.max_records = max_records
        self._sends: OrderedDict[tuple[str, bytes], list[float]] = OrderedDict()
        self._lock = threading.Lock()

    def allow(self, pool_id: str, name: str) -> bool:
        """Count one send for the name and say whether it is allowed (False: over the limit)."""
        key = (pool_id, hashlib.sha256(name.encode("utf-8", "surrogatepass")).digest())
        with self._lock:
            now = self.clock()
            recent = [t for t in self._sends.get(key, []) if now - t < WINDOW]
            if len(recent) >= MAX_SENDS:
                self._sends[key] = recent
                return False
            if key not in self._sends and not self._make_room(now):
                return False
            recent.append(now)
            self._sends[key] = recent
            self._sends.move_to_end(key)
            return True

    def _make_room(self, now: float) -> bool:
        while len(self._sends) >= self.max_records:
            key, times = next(iter(self._sends.items()))
            if times and now - times[-1] < WINDOW:
                return False  # the oldest is still counting: refuse rather than forget it
            del self._sends[key]
        return True


RESET_SENDS = SendLimit()
# ResendConfirmationCode is limited too on AWS (LimitExceededException, e.g. aws/aws-sdk-net#2011);
# its numbers are unpublished as well: the same 5 per hour, counted apart from reset codes.
CONFIRM_SENDS = SendLimit()
