"""Messages Cognito would send (codes, temporary passwords): printed, kept, and served.

A message is in memory (and on /_outbox.json) before send returns; the file is written by a
background thread, off the request path, as a real mail would be sent: a request that sends a code
then takes about as long as one for an unknown name that sends nothing (ResendConfirmationCode,
ForgotPassword), so timing tells less about which accounts exist. Exiting writes what is pending.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

from localcloud.files import BackgroundWriter

OUTBOX_FILE = "outbox.json"
# Keep the newest messages only: the outbox is a development aid, not an archive.
MAX_MESSAGES = 500


class Outbox:
    """An append-only list of sent messages, persisted as JSON in the data dir."""

    def __init__(self, data_dir: Path | None) -> None:
        """Load previous messages from data_dir (None: memory only)."""
        self.path = data_dir / OUTBOX_FILE if data_dir else None
        self._lock = threading.Lock()
        self._writer = BackgroundWriter(self.path) if self.path else None
        self.messages: list[dict[str, Any]] = []
        if self.path and self.path.exists():
            try:
                self.messages = json.loads(self.path.read_text())
            except (OSError, ValueError):
                self.messages = []

    def send(self, *, recipient: str, subject: str, body: str, code: str | None, kind: str) -> dict[str, Any]:
        """Record a message, print it on the console, and have the outbox persisted (soon)."""
        message = {
            "recipient": recipient,
            "subject": subject,
            "body": body,
            "code": code,
            "kind": kind,
            "sent_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "timestamp": time.time(),
        }
        with self._lock:
            self.messages.insert(0, message)
            del self.messages[MAX_MESSAGES:]
            snapshot = list(self.messages)
        if self._writer is not None:
            self._writer.submit(lambda: json.dumps(snapshot, indent=1))
        print(f"[outbox] to={recipient} subject={subject!r} code={code}: {body}", flush=True)
        return message

    def newest_first(self) -> list[dict[str, Any]]:
        """A copy of the messages, newest first."""
        with self._lock:
            return list(self.messages)


OUTBOX = Outbox(None)


def configure(data_dir: Path) -> None:
    """Point the process-wide outbox at a data dir."""
    global OUTBOX
    OUTBOX = Outbox(data_dir)


def send(**kwargs: Any) -> dict[str, Any]:
    """Send through the process-wide outbox."""
    return OUTBOX.send(**kwargs)
