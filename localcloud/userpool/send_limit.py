"""How many reset (and sign-up confirmation) codes one name may be sent: Cognito refuses more after
a few within an hour.

Cognito answers ForgotPassword with ``LimitExceededException: Attempt limit exceeded, please try
after some time.`` once a user asked too often. AWS does not publish the exact numbers; localcloud
allows MAX_SENDS (5) per WINDOW (1 hour) per (pool, name). Unknown names are counted the same way
(by unknown_name_key), so the limit does not tell which accounts exist when existence is hidden.

Kept in memory, keyed by the name's SHA-256, at most MAX_RECORDS names (``limits.max_send_records``
in the config): when full, the record sent to least recently is dropped to make room. A flood of
names therefore cannot grow memory nor lock anyone out (refusing new names when full would let
100,000 unknown names refuse every real user's first code for an hour); its cost is that a name
whose last send is older than the flood's MAX_RECORDS names starts counting again.
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
            if key not in self._sends:
                self._make_room()
            recent.append(now)
            self._sends[key] = recent
            self._sends.move_to_end(key)
            return True

    def _make_room(self) -> None:
        """Drop the records sent to least recently (first in the order) until a new one fits."""
        while len(self._sends) >= self.max_records:
            self._sends.popitem(last=False)


RESET_SENDS = SendLimit()
# ResendConfirmationCode is limited too on AWS (LimitExceededException, e.g. aws/aws-sdk-net#2011);
# its numbers are unpublished as well: the same 5 per hour, counted apart from reset codes.
CONFIRM_SENDS = SendLimit()


def configure(max_records: int | None) -> None:
    """Set both limits' capacity (the config's limits.max_send_records; None: MAX_RECORDS)."""
    for limit in (RESET_SENDS, CONFIRM_SENDS):
        limit.max_records = max(1, max_records) if max_records is not None else MAX_RECORDS
