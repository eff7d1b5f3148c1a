"""Files in the data dir: every one holds a secret (client secret, codes, keys, tokens), so 0600."""

from __future__ import annotations

import atexit
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700


def private_dir(path: Path) -> Path:
    """Create the data dir readable by its owner only (and tighten one that already exists)."""
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    os.chmod(path, DIR_MODE)
    return path


def write_private(path: Path, data: bytes | str) -> None:
    """Atomically replace path with data, mode 0600 whatever the umask or an older file's mode."""
    if isinstance(data, str):
        data = data.encode()
    tmp = path.with_suffix(".tmp")
    # O_NOFOLLOW: a planted symlink must not redirect the write; fchmod: O_CREAT's mode only applies
    # to a new file, and a temp file left by a crash may have been made with a looser one.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, FILE_MODE)
    with os.fdopen(fd, "wb") as fh:
        os.fchmod(fh.fileno(), FILE_MODE)
        fh.write(data)
    os.replace(tmp, path)


# How long after a submit the file is written (a burst of submits is written once).
WRITE_DELAY = 0.05


class BackgroundWriter:
    """Writes the latest data given for one file from a daemon thread, off the request path.

    ``submit`` returns at once; the thread then writes the newest data submitted (older ones not yet
    written are skipped: each is a whole snapshot), with write_private. Data may be given as a
    function that makes it, so that serialising it is off the request path too. ``flush`` writes what is
    pending now; it runs at exit too, so a stopped server leaves its last state on disk.
    """

    def __init__(self, path: Path) -> None:
        """Start the thread for one file."""
        self.path = path
        self._pending: bytes | str | Callable[[], bytes | str] | None = None
        self._lock = threading.Lock()  # guards _pending
        self._write_lock = threading.Lock()  # one write at a time, in order
        self._wake = threading.Event()
        threading.Thread(target=self._run, name=f"writer-{path.name}", daemon=True).start()
        atexit.register(self.flush)

    def submit(self, data: bytes | str | Callable[[], bytes | str]) -> None:
        """Have data written soon (replacing any not yet written)."""
        with self._lock:
            self._pending = data
        self._wake.set()

    def flush(self) -> None:
        """Write the pending data now, if any."""
        with self._write_lock:
            with self._lock:
                data, self._pending = self._pending, None
            if data is not None:
                write_private(self.path, data() if callable(data) else data)

    def _run(self) -> None:
        while True:
            self._wake.wait()
            # Let the request that submitted finish first: this thread's work would otherwise take
            # the GIL from it (and make a request that writes slower than one that does not).
            time.sleep(WRITE_DELAY)
            self._wake.clear()
            self.flush()
