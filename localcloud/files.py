"""Files in the data dir: every one holds a secret (client secret, codes, keys, tokens), so 0600."""

from __future__ import annotations

import os
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
