"""/api/user/me under gunicorn on loopback, against the usual alternatives and the ceiling.

(a) /api/user/me as built: access token verified locally, JWKS cached;
(b) the same, verified through Cognito's userInfo on every request (mozilla-django-oidc's DRF way);
(c) the same, fetching the JWKS on every request (a verifier without a cache);
(d) /api/health, an unauthenticated JSON endpoint of the same app: the ceiling.
Each variant gets the same closed-loop load; figures are printed as ratios to (d). Then it counts
outbound HTTP calls per API request (warm cache) and per browser sign-in, in this process.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import os
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SECONDS = float(os.environ.get("BENCH_SECONDS", "5"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "8"))
WORKERS = os.environ.get("BENCH_WORKERS", "2")


class _Form(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action, self.fields = "", {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and not self.action:
            self.action = attrs.get("action") or ""
        elif tag == "input" and attrs.get("name"):
            self.fields.setdefault(attrs["name"], attrs.get("value") or "")


def hosted_ui_tokens(email: str, password: str) -> dict:
    """A full code flow with PKCE against the hosted UI: tokens with every client scope."""
    import requests
    from django.conf import settings

    from accounts import cognito

    browser = requests.Session()
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    redirect_uri = "http://localhost:8000/oidc/callback/"
    query = {
        "response_type": "code",
        "client_id": settings.COGNITO_CLIENT_ID,
        "redirect_uri": redirect_uri,
        "state": "bench",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    page = browser.get(f"{cognito.endpoint('authorization_endpoint')}?{urlencode(query)}", timeout=10)
    form = _Form()
    form.feed(page.text)
    answer = browser.post(
        urljoin(page.url, form.action or page.url),
        data={**form.fields, "username": email, "password": password},
        allow_redirects=False,
        timeout=10,
    )
    code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]
    return cognito.exchange_code(code=code, redirect_uri=redirect_uri, code_verifier=verifier)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load(port: int, path: str, token: str | None) -> tuple[float, list[float], int]:
    """Closed-loop load: CONCURRENCY keep-alive clients for SECONDS; (req/s, latencies ms, errors)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    latencies: list[list[float]] = [[] for _ in range(CONCURRENCY)]
    errors = [0] * CONCURRENCY
    stop = time.monotonic() + SECONDS

    def client(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.monotonic() < stop:
            started = time.perf_counter()
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            latencies[i].append((time.perf_counter() - started) * 1000)
            if response.status != 200:
                errors[i] += 1
            if response.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CONCURRENCY)]
    began = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - began
    flat = [x for xs in latencies for x in xs]
    return len(flat) / elapsed, flat, sum(errors)


def count_outbound(token: str) -> tuple[float, float, float, int]:
    """Outbound calls per request for (a), (b), (c) with warm caches, and per browser sign-in."""
    from django.test import Client

    from accounts import cognito
    from bench import urls as bench_urls

    calls: list[str] = []

    def hook(response, *args, **kwargs):
        calls.append(response.url)

    cognito._session.hooks["response"].append(hook)
    bench_urls._http.hooks["response"].append(hook)
    client = Client(HTTP_HOST="localhost:8000")
    per_request = []
    for path in ("/api/user/me", "/bench/me-userinfo", "/bench/me-jwks-per-request"):
        client.get(path, HTTP_AUTHORIZATION=f"Bearer {token}")  # warm
        calls.clear()
        for _ in range(10):
            assert client.get(path, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200
        per_request.append(len(calls) / 10)

    # A browser sign-in through the app, discovery and JWKS warm (as after the first one).
    def sign_in() -> None:
        browser = Client(HTTP_HOST="localhost:8000")
        authorize = browser.get("/oidc/authenticate/")["Location"]
        import requests

        hosted = requests.Session()
        page = hosted.get(authorize, timeout=10)
        form = _Form()
        form.feed(page.text)
        answer = hosted.post(
            urljoin(page.url, form.action or page.url),
            data={**form.fields, "username": "alice@example.com", "password": "Alice-pass-1"},
            allow_redirects=False,
            timeout=10,
        )
        callback = urlsplit(answer.headers["Location"])
        assert browser.get(callback.path, parse_qs(callback.query)).status_code == 302

    sign_in()
    calls.clear()
    sign_in()
    return per_request[0], per_request[1], per_request[2], len(calls)


def main() -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    tokens = hosted_ui_tokens("alice@example.com", "Alice-pass-1")
    token = tokens["access_token"]
    per_a, per_b, per_c, per_sign_in = count_outbound(token)

    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_SECURE_HSTS_SECONDS": "0",
        "DJANGO_LOG_LEVEL": "WARNING",
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "project.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            WORKERS,
            "--worker-class",
            "gthread",
            "--threads",
            "4",
            "--log-level",
            "warning",
        ],  # fmt: skip
        cwd=ROOT,
        env=env,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/api/health")
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("gunicorn did not start") from None
                time.sleep(0.2)
        variants = [
            ("(a) /api/user/me, local verification", "/api/user/me", token),
            ("(b) verified via userInfo", "/bench/me-userinfo", token),
            ("(c) JWKS fetched per request", "/bench/me-jwks-per-request", token),
            ("(d) /api/health, no auth (ceiling)", "/api/health", None),
        ]
        results = {}
        for _label, path, bearer in variants:
            load(port, path, bearer)  # warm every worker and its caches
        for label, path, bearer in variants:
            results[label] = load(port, path, bearer)
    finally:
        server.terminate()
        server.wait(10)

    ceiling = results[variants[3][0]][0]
    a_rate = results[variants[0][0]][0]
    b_rate = results[variants[1][0]][0]
    print(
        f"gunicorn {WORKERS} workers x 4 threads; {CONCURRENCY} keep-alive clients; {SECONDS:.0f} s per variant"
    )
    print(f"{'variant':<40}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'× (d)':>8}{'errors':>8}")
    for label, (rate, latencies, errors) in results.items():
        p99 = statistics.quantiles(latencies, n=100)[98]
        print(
            f"{label:<40}{rate:>9.0f}{statistics.median(latencies):>9.2f}{p99:>9.2f}{rate / ceiling:>8.2f}{errors:>8}"
        )
    print(f"(a)/(d) = {a_rate / ceiling:.2f} (target >= 0.8); (a)/(b) = {a_rate / b_rate:.1f} (target >= 10)")
    print(
        f"outbound HTTP calls per API request, warm cache: (a) {per_a:g}, (b) {per_b:g}, (c) {per_c:g}; "
        f"per browser sign-in: {per_sign_in}"
    )


if __name__ == "__main__":
    main()
