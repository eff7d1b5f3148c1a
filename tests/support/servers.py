"""The app under gunicorn, as many servers as a test wants, and a browser (requests) to drive them.

Servers share one Postgres database and one localcloud stack, as app servers behind a load balancer
share managed Postgres and Cognito. A browser keeps one cookie jar for `localhost`, whatever the
port: cookies do not separate ports, so a session cookie set by one server is sent to the other,
as behind a load balancer that serves one origin.
"""

from __future__ import annotations

import contextlib
import html
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import requests

from tests.support.hosted_ui import hosted_ui_sign_in
from tests.support.localcloud import ROOT, Stack, free_port, write_config

# What the app reads from app.env (the stack's values) for a server.
STACK_KEYS = (
    "COGNITO_REGION", "COGNITO_USER_POOL_ID", "COGNITO_CLIENT_ID", "COGNITO_CLIENT_SECRET",
    "COGNITO_DOMAIN", "COGNITO_IDP_URL", "COGNITO_ISSUER", "AWS_ENDPOINT_URL", "AWS_S3_ENDPOINT_URL",
    "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "COGNITO_IDENTITY_POOL_ID",
    "AWS_STORAGE_BUCKET_NAME",
)  # fmt: skip


def stack_config_for(path: Path, ports: list[int], **changes: Any) -> Path:
    """localcloud's config with each app port's callback and logout URLs."""
    config = write_config(path, **changes)
    data = json.loads(config.read_text())
    client = data["app_client"]
    for port in ports:  # the servers sit behind a TLS proxy: their URLs are https
        client["CallbackURLs"].append(f"https://localhost:{port}/oidc/callback/")
        client["LogoutURLs"].append(f"https://localhost:{port}/")
    config.write_text(json.dumps(data))
    return config


def database_url(name: str) -> str:
    """DATABASE_URL of the test run's server, naming database `name`."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path=f"/{name}"))


def server_env(stack: Stack, database: str, **extra: str) -> dict[str, str]:
    """The environment of an app server on `stack` and `database`: production settings (DEBUG off)."""
    values = stack.env
    env = {key: value for key, value in os.environ.items() if key not in STACK_KEYS}
    env.update({key: values[key] for key in STACK_KEYS if key in values})
    env.update(
        DATABASE_URL=database_url(database),
        # Production settings, behind a TLS-terminating proxy (Browser plays it: PROXY_HEADERS).
        DJANGO_DEBUG="false",
        DJANGO_BEHIND_PROXY="true",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),  # one key for every server, as in production
        DJANGO_ALLOWED_HOSTS="localhost,127.0.0.1",
        DJANGO_LOG_LEVEL="WARNING",
        **extra,
    )
    return env


@dataclass
class AppServer:
    """One gunicorn process (its own workers) on a port."""

    process: subprocess.Popen
    port: int
    log: Path

    @property
    def base(self) -> str:
        """The server's base URL, on the host the callback is registered for."""
        return f"http://localhost:{self.port}"

    def stop(self) -> None:
        """Stop gunicorn (by its own pid) and its workers."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_app_server(env: dict[str, str], log: Path, *, workers: int = 1, threads: int = 4,
                     port: int | None = None, timeout: float = 30) -> AppServer:  # fmt: skip
    """gunicorn project.wsgi on a free port; returns once /api/health answers."""
    port = port or free_port()
    handle = log.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "project.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--worker-class", "gthread", "--threads", str(threads),
         "--graceful-timeout", "5", "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT,
    )  # fmt: skip
    server = AppServer(process, port, log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"{server.base}/api/health", headers=PROXY_HEADERS, timeout=2).status_code == 200:
                return server
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"gunicorn did not start on {port}:\n{log.read_text()[-3000:]}")


def database_connections(name: str) -> int:
    """How many client connections database `name` has now."""
    with psycopg.connect(database_url("postgres"), autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [name]).fetchone()
    return int(row[0]) if row else 0


def _local_postgres(command: str) -> subprocess.CompletedProcess:
    """devtools/postgres.sh <command> for the cluster DATABASE_URL points at (its port)."""
    port = urlsplit(os.environ["DATABASE_URL"]).port or 5432
    env = {**os.environ, "DATABASE_URL": "", "PGPORT_LOCAL": str(port)}
    script = str(ROOT / "devtools" / "postgres.sh")
    return subprocess.run([script, command], env=env, capture_output=True, text=True, timeout=60, check=False)


def local_postgres_is_ours() -> bool:
    """Whether DATABASE_URL is the project-local cluster devtools/postgres.sh runs (so it may restart)."""
    host = urlsplit(os.environ["DATABASE_URL"]).hostname
    return host in ("127.0.0.1", "localhost") and _local_postgres("status").returncode == 0


def stop_local_postgres() -> None:
    """Stop the project-local cluster (fast: every connection is cut): a real database outage."""
    done = _local_postgres("stop")
    assert done.returncode == 0, done.stderr


def start_local_postgres() -> None:
    """Start the project-local cluster again (after stop_local_postgres)."""
    done = _local_postgres("start")
    assert done.returncode == 0, done.stderr


def restart_local_postgres() -> None:
    """Stop the project-local cluster and start it again."""
    stop_local_postgres()
    start_local_postgres()


def make_stack_user(stack: Stack, name: str = "Server Person") -> tuple[str, str]:
    """(email, password) of a fresh confirmed user of stack's pool."""
    email, password = f"user-{secrets.token_hex(5)}@example.com", "Test-pass-1"
    idp = stack.idp()
    idp.admin_create_user(
        UserPoolId=stack.pool_id,
        Username=email,
        UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"},
                        {"Name": "name", "Value": name}],
        MessageAction="SUPPRESS",
    )  # fmt: skip
    idp.admin_set_user_password(UserPoolId=stack.pool_id, Username=email, Password=password, Permanent=True)
    return email, password


# The TLS-terminating proxy in front of the servers: it tells them the request came over HTTPS.
PROXY_HEADERS = {"X-Forwarded-Proto": "https"}


# --- a browser --------------------------------------------------------------------------------------
_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_INPUT = re.compile(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"')


class Browser:
    """A person's browser: one cookie jar for the app (any server) and one for the hosted UI."""

    def __init__(self) -> None:
        self.app = requests.Session()
        self.app.headers.update(PROXY_HEADERS)
        self.hosted = requests.Session()

    def _behind_tls(self, response: requests.Response) -> requests.Response:
        """The browser spoke HTTPS to the proxy, so its Secure cookies go back (requests sees http)."""
        for cookie in self.app.cookies:
            cookie.secure = False
        return response

    def get(self, base: str, path: str, **kwargs: Any) -> requests.Response:
        """GET a page of the app on the server at base (redirects not followed)."""
        return self._behind_tls(self.app.get(base + path, allow_redirects=False, timeout=15, **kwargs))

    def sign_in(self, base: str, email: str, password: str) -> requests.Response:
        """The whole sign-in through server base: its redirect, the hosted UI, its callback."""
        start = self.get(base, "/oidc/authenticate/")
        assert start.status_code == 302, start.text[:500]
        callback = hosted_ui_sign_in(start.headers["Location"], email, password, browser=self.hosted)
        parts = urlsplit(callback)
        # https://localhost:<port>/… reaches the server at http://localhost:<port> through "the proxy".
        assert f"http://{parts.netloc}" == base and parts.scheme == "https", callback
        return self.get(base, f"{parts.path}?{parts.query}")

    def csrf(self, base: str, path: str = "/me/") -> tuple[str, str]:
        """(CSRF token, page) from a page of server base."""
        page = self.get(base, path)
        assert page.status_code == 200, (page.status_code, page.text[:300])
        match = _CSRF.search(page.text)
        assert match, page.text[:500]
        return match.group(1), page.text

    def post(
        self, base: str, path: str, data: dict[str, str], token: str, **kwargs: Any
    ) -> requests.Response:
        """POST a form to server base, as its page would (CSRF token and Referer); files= for uploads."""
        headers = {"Referer": base.replace("http://", "https://", 1) + path}  # the page, over HTTPS
        response = self.app.post(base + path, data={**data, "csrfmiddlewaretoken": token}, headers=headers,
                                 allow_redirects=False, timeout=30, **kwargs)  # fmt: skip
        return self._behind_tls(response)

    def edit_profile(self, base: str, **changes: str) -> requests.Response:
        """Submit the edit page of server base with changes (the page's own values otherwise)."""
        token, page = self.csrf(base, "/me/edit/")
        fields = {name: html.unescape(value) for name, value in _INPUT.findall(page)}
        fields.pop("csrfmiddlewaretoken", None)
        data = {"visibility": "members", **fields, **changes}
        return self.post(base, "/me/edit/", data, token)

    def upload_avatar(self, base: str, picture: bytes) -> requests.Response:
        """The avatar form of server base (no JavaScript), with a JPEG."""
        token, _ = self.csrf(base, "/me/avatar/")
        return self.post(base, "/me/avatar/", {}, token, files={"image": ("me.jpg", picture, "image/jpeg")})

    def sign_out(self, base: str) -> requests.Response:
        """The header's Sign out button on server base."""
        token, _ = self.csrf(base)
        return self.post(base, "/accounts/sign-out/", {}, token)
