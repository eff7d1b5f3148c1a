"""Persistence of the user-pool state: a pickle of moto's cognito-idp objects in the data dir.

Why pickle: moto's object graph *is* the state (users, groups, attributes, MFA secrets, refresh
tokens and their revocation, plus attributes localcloud adds), so pickling it captures everything
without a schema to keep in step with moto. moto is pinned exactly, so the classes are stable; the
file is written atomically (temp file + rename) after each state-changing request, so a crash
leaves the previous snapshot intact. A snapshot that no longer loads (e.g. after a moto upgrade)
stops the start-up with a message to run ``python -m localcloud reset``.
"""

from __future__ import annotations

import hashlib
import pickle
import shutil
from pathlib import Path
from typing import Any

from localcloud.files import BackgroundWriter
from localcloud.userpool import backend as bk

STATE_FILE = "cognito-idp.pickle"
FORMAT_VERSION = 1


class StateError(RuntimeError):
    """The snapshot exists but cannot be loaded."""


class Store:
    """Saves and restores the cognito-idp backends of every region."""

    def __init__(self, data_dir: Path) -> None:
        """Bind to a data dir."""
        self.path = data_dir / STATE_FILE
        self._digest: bytes | None = None
        self._writer = BackgroundWriter(self.path)

    def load(self) -> bool:
        """Restore a snapshot into moto's backends; False when there is none."""
        if not self.path.exists():
            return False
        try:
            data: dict[str, Any] = pickle.loads(self.path.read_bytes())  # noqa: S301 - our own file
        except Exception as exc:  # any unpickling failure means an unusable snapshot
            raise StateError(f"{self.path}: cannot load ({exc}); run `python -m localcloud reset`") from exc
        if data.get("version") != FORMAT_VERSION:
            raise StateError(f"{self.path}: unknown format; run `python -m localcloud reset`")
        for region, state in data["regions"].items():
            region_backend = bk.backend(region)
            region_backend.user_pools.update(state["user_pools"])
            region_backend.user_pool_domains.update(state["user_pool_domains"])
        return True

    def save(self) -> None:
        """Write a snapshot if anything changed since the last one."""
        regions = {}
        for region, region_backend in list(bk.cognitoidp_backends[bk.ACCOUNT_ID].items()):
            if not region_backend.user_pools:
                continue
            for pool in region_backend.user_pools.values():
                if hasattr(pool, "prune"):
                    pool.prune()
            regions[region] = {
                "user_pools": dict(region_backend.user_pools),
                "user_pool_domains": dict(region_backend.user_pool_domains),
            }
        blob = pickle.dumps({"version": FORMAT_VERSION, "regions": regions})
        digest = hashlib.sha256(blob).digest()
        if digest == self._digest:
            return
        self._writer.submit(blob)  # written off the request path (files.BackgroundWriter)
        self._digest = digest


def reset(data_dir: Path) -> None:
    """Delete the data dir and everything in it."""
    if data_dir.exists():
        shutil.rmtree(data_dir)
