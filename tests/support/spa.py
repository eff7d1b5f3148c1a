"""The single-page app (spa/serve.py) as a process on its own origin, and the outbox's sign-in codes."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import requests
from django.conf import settings

from tests.support.localcloud import ROOT
from tests.support.waiting import wait_until


@dataclass
class Spa:
    """A running spa/serve.py."""

    process: subprocess.Popen
    port: int

    @property
    def url(self) -> str:
        """Its origin's root, as registered on the SPA client (http://localhost:<port>/)."""
        return f"http://localhost:{self.port}/"

    @property
    def origin(self) -> str:
        """scheme://host:port."""
        return f"http://localhost:{self.port}"


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).status_code == 200
    except requests.RequestException:
        return False


@contextmanager
def serve_spa(port: int, api_origin: str) -> Iterator[Spa]:
    """spa/serve.py on port (5173-5179 are registered), configured from the test stack's settings."""
    env = {
        **os.environ,
        "COGNITO_DOMAIN": settings.COGNITO_DOMAIN,
        "COGNITO_SPA_CLIENT_ID": settings.COGNITO_SPA_CLIENT_ID,
        "SPA_API_ORIGIN": api_origin,
    }
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "spa" / "serve.py"), "--port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    spa = Spa(process, port)
    try:
        wait_until(
            lambda: _answers(spa.url + "config.json") or process.poll() is not None, what="spa/serve.py"
        )
        assert process.poll() is None, "spa/serve.py exited"
        yield spa
    finally:
        process.terminate()
        process.wait(timeout=5)


def sign_in_codes(email: str) -> list[str]:
    """The e-mailed sign-in codes (USER_AUTH / EMAIL_OTP) the local pool sent to email, newest first."""
    messages = requests.get(f"{settings.COGNITO_DOMAIN}/_outbox.json", timeout=5).json()
    return [m["code"] for m in messages if m["recipient"] == email and m["kind"] == "email_otp"]
