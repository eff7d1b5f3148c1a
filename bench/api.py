"""/api/user/me under gunicorn on loopback, against the usual alternatives and the ceiling.

(a) /api/user/me as built: access token verified locally, JWKS cached;
(a′) the same handler, authentication replaced by a fixed user (bench/urls.py): what auth costs;
(b) the same, verified through Cognito's userInfo on every request (mozilla-django-oidc's DRF way),
    with the network latency localcloud adds to every Cognito call (--latency-ms, from
    LOCALCLOUD_LATENCY_MS; `make bench` sets 20 ms): Cognito is not on loopback;
(c) the same, fetching discovery and the JWKS on every request (a verifier without a cache);
(d) /api/health, an unauthenticated JSON endpoint of the same app: the ceiling.
Each variant gets the same closed-loop load from the same client, against the same gunicorn
process, after a warm-up, in BENCH_ROUNDS interleaved rounds; (a) and (b) also with one client. Prints the ratios
against their targets, then counts outbound calls per API request (warm) and per browser sign-in
(project.integrations.outbound: Cognito's requests session and every botocore client),
then profiles (a), (a′) and (d) in this process (cProfile): where (a)'s time goes.
Runs on its own database (`<name>_api_bench`, recreated each run), never the developer's.
"""

from __future__ import annotations

import base64
import cProfile
import hashlib
import http.client
import io
import os
import pstats
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SECONDS = float(os.environ.get("BENCH_SECONDS", "5"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "8"))
WORKERS = os.environ.get("BENCH_WORKERS", "2")
# Off 8000/8001 and other clones': 83xx after the test localcloud's port (9341 → 8341).
PORT = int(os.environ.get("BENCH_PORT") or 8300 + int(os.environ.get("LOCALCLOUD_PORT") or 9239) % 100)
PROFILE_REQUESTS = int(os.environ.get("BENCH_PROFILE_REQUESTS", "300"))
# Network latency of every call to Cognito, added by localcloud itself (--latency-ms, which
# devtools/services.sh passes from LOCALCLOUD_LATENCY_MS; `make bench` sets 20 unless told).
LATENCY_MS = float(os.environ.get("LOCALCLOUD_LATENCY_MS") or 0)
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))


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

    from project.integrations.cognito import user_pool

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
    page = browser.get(f"{user_pool().endpoint('authorization_endpoint')}?{urlencode(query)}", timeout=10)
    form = _Form()
    form.feed(page.text)
    answer = browser.post(
        urljoin(page.url, form.action or page.url),
        data={**form.fields, "username": email, "password": password},
        allow_redirects=False,
        timeout=10,
    )
    code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]
    return user_pool().exchange_code(code=code, redirect_uri=redirect_uri, code_verifier=verifier)


def network_latency(token: str) -> float:
    """The time of one userInfo call (ms, median of five): what localcloud's --latency-ms adds."""
    from project.integrations.cognito import user_pool

    pool = user_pool()
    samples = []
    for _ in range(5):
        started = time.perf_counter()
        pool.http.get(
            pool.endpoint("userinfo_endpoint"), headers={"Authorization": f"Bearer {token}"}, timeout=10
        )
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def load(
    port: int, path: str, token: str | None, concurrency: int = CONCURRENCY
) -> tuple[float, list[float], int]:
    """Closed-loop load: `concurrency` keep-alive clients for SECONDS; (req/s, latencies ms, errors)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    errors = [0] * concurrency
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

    threads = [threading.Thread(target=client, args=(i,)) for i in range(concurrency)]
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

    from project.integrations import outbound

    client = Client(HTTP_HOST="localhost:8000")
    per_request = []
    for path in ("/api/user/me", "/bench/me-userinfo", "/bench/me-jwks-per-request"):
        client.get(path, HTTP_AUTHORIZATION=f"Bearer {token}")  # warm
        # Every outbound call: Cognito's requests session and botocore (identity pool, S3).
        with outbound.recording() as calls:
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
    with outbound.recording() as calls:
        sign_in()
    return per_request[0], per_request[1], per_request[2], len(calls)


def wsgi_environ(path: str, token: str | None) -> dict:
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "localhost:8000",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
    }
    if token:
        environ["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return environ


# Where (a)'s time goes: cumulative time inside these functions (file suffix, function name).
PROFILE_BUCKETS = [
    ("whole request (WSGIHandler)", "django/core/handlers/wsgi.py", "__call__"),
    ("authentication (bearer.authenticate)", "accounts/bearer.py", "authenticate"),
    ("  token check (user_pool().verify_token)", "project/integrations/cognito.py", "verify_token"),
    ("  user + profile query (bearer._user_for)", "accounts/bearer.py", "_user_for"),
    ("    user_for_api (one query)", "accounts/selectors.py", "user_for_api"),
    ("SQL, all queries (CursorWrapper.execute)", "django/db/backends/utils.py", "execute"),
    ("the handler (profiles/api.py user_me)", "profiles/api.py", "user_me"),
    ("  avatar URL (avatars.api_avatar_url)", "profiles/avatars.py", "api_avatar_url"),
    ("  JSON (JsonResponse.__init__)", "django/http/response.py", "__init__"),
    ("sessions middleware", "django/contrib/sessions/middleware.py", "process_response"),
    ("messages middleware", "django/contrib/messages/middleware.py", "process_response"),
    ("CSRF middleware (process_view)", "django/middleware/csrf.py", "process_view"),
    ("auth middleware (lazy user)", "django/contrib/auth/middleware.py", "process_request"),
    ("security middleware", "django/middleware/security.py", "process_response"),
    ("common middleware", "django/middleware/common.py", "process_response"),
    ("request_finished (close_old_connections)", "django/db/__init__.py", "close_old_connections"),
    ("URL resolving", "django/urls/resolvers.py", "resolve"),
]


def profile_in_process(token: str) -> None:
    """(a), (a′) and (d) through the WSGI handler in this process: time, queries, cProfile buckets."""
    variants = [
        ("(a)", "/api/user/me", token),
        ("(a′)", "/bench/me-fixed-user", None),
        ("(d)", "/api/health", None),
    ]
    print(f"in-process profile ({PROFILE_REQUESTS} requests each, this process's settings, DEBUG as set):")
    stats = _time_variants(variants)
    _print_buckets(stats, [label for label, _path, _bearer in variants])
    _time_parts(token)


def _time_variants(variants: list[tuple[str, str, str | None]]) -> dict[str, dict]:
    """Each variant timed plainly (with its queries listed), then under cProfile: label → stats."""
    from django.core.handlers.wsgi import WSGIHandler
    from django.db import connection

    handler = WSGIHandler()
    queries: list[str] = []

    def record(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    def call(path: str, bearer: str | None) -> None:
        body = handler(wsgi_environ(path, bearer), lambda status, headers: None)
        b"".join(body)
        body.close()

    stats = {}
    for label, path, bearer in variants:
        call(path, bearer)
        queries.clear()
        with connection.execute_wrapper(record):  # request_started resets connection.queries
            call(path, bearer)
        started = time.perf_counter()
        for _ in range(PROFILE_REQUESTS):
            call(path, bearer)
        per = (time.perf_counter() - started) * 1000 / PROFILE_REQUESTS
        print(f"  {label:<5} {per:6.3f} ms/request, {len(queries)} queries")
        for query in queries:
            print(f"        {query[:200]}")
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(PROFILE_REQUESTS):
            call(path, bearer)
        profiler.disable()
        stats[label] = pstats.Stats(profiler).stats
    return stats


def _print_buckets(stats: dict[str, dict], labels: list[str]) -> None:
    """Cumulative time per request of the PROFILE_BUCKETS functions, one column per variant."""
    print("  cumulative ms per request under cProfile (inflated by it; compare rows, not with above):")
    print(f"  {'':<44}" + "".join(f"{label:>8}" for label in labels))
    for name, suffix, function in PROFILE_BUCKETS:
        row = []
        for label in labels:
            total = sum(
                ct
                for (filename, _line, func), (_cc, _nc, _tt, ct, _callers) in stats[label].items()
                if filename.endswith(suffix) and func == function
            )
            row.append(total * 1000 / PROFILE_REQUESTS)
        print(f"  {name:<44}" + "".join(f"{x:8.3f}" for x in row))


def _time_parts(token: str) -> None:
    """The parts of (a) timed alone, without the profiler's inflation."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection

    from accounts.selectors import user_for_api
    from profiles import api
    from project.api import ApiPrincipal
    from project.integrations.cognito import user_pool

    User = get_user_model()
    queries: list[str] = []

    def record(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    def verify() -> dict:
        return user_pool().verify_token(token, token_use="access", client_ids=settings.API_CLIENT_IDS)  # noqa: S106

    sub = verify()["sub"]
    with connection.execute_wrapper(record):
        user = user_for_api(sub=sub)
    api_sql = queries[0]
    orm_sql, orm_params = (
        User.objects.select_related("profile").filter(cognito_sub=sub).query.sql_with_params()
    )

    def raw_query(statement: str, params) -> Callable[[], None]:
        def run() -> None:
            with connection.cursor() as cursor:
                cursor.execute(statement, params)
                cursor.fetchall()

        return run

    parts = [
        ("token check, memo hit (user_pool().verify_token)", verify),
        ("user + profile, the API's read (user_for_api)", lambda: user_for_api(sub=sub)),
        ("  its SQL, raw cursor (Postgres round trip)", raw_query(api_sql, [sub])),
        (
            "user + profile through the ORM (select_related)",
            lambda: User.objects.select_related("profile").get(cognito_sub=sub),
        ),
        ("  its SQL (every column), raw cursor", raw_query(orm_sql, orm_params)),
        ("SELECT 1, raw cursor (the round trip alone)", raw_query("SELECT 1", [])),
        (
            "the response (api.me_json: dict, presign, JSON)",
            lambda: api.me_json(ApiPrincipal(user=user, claims={}, token=""), user.profile),
        ),
    ]
    print("  parts of (a), timed alone (ms per call):")
    for name, part in parts:
        part()
        started = time.perf_counter()
        for _ in range(PROFILE_REQUESTS):
            part()
        print(f"    {name:<50}{(time.perf_counter() - started) * 1000 / PROFILE_REQUESTS:8.3f}")


def main() -> None:
    name, token, outbound_counts, measured_latency = _prepare()
    variants, rounds = _measure(token)
    _report(name, variants, rounds, outbound_counts, measured_latency)
    profile_in_process(token)


def _prepare() -> tuple[str, str, tuple, float]:
    """The bench database, Django, alice's token, outbound-call counts and the measured latency."""
    from bench.database import check_django_database, use_bench_database

    name = use_bench_database("api", reset=True)  # before Django reads DATABASE_URL
    os.environ["DJANGO_SETTINGS_MODULE"] = "project.settings"
    os.environ["BENCH_URLS"] = "true"
    import django

    django.setup()
    check_django_database()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    tokens = hosted_ui_tokens("alice@example.com", "Alice-pass-1")
    token = tokens["access_token"]
    return name, token, count_outbound(token), network_latency(token)


def _measure(token: str) -> tuple[dict, list[dict[str, tuple[float, list[float], int]]]]:
    """Every variant against one gunicorn, in interleaved rounds: (variants, rounds)."""
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", PORT)) == 0:
            raise SystemExit(f"port {PORT} is taken: set BENCH_PORT (83xx)")
    port = PORT
    env = {
        **os.environ,
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
        variants = {
            "a": ("(a) /api/user/me, local verification", "/api/user/me", token, CONCURRENCY),
            "a'": ("(a′) same handler, fixed user, no auth", "/bench/me-fixed-user", None, CONCURRENCY),
            "b": ("(b) verified via userInfo", "/bench/me-userinfo", token, CONCURRENCY),
            "c": ("(c) discovery + JWKS per request", "/bench/me-jwks-per-request", token, CONCURRENCY),
            "d": ("(d) /api/health, no auth (ceiling)", "/api/health", None, CONCURRENCY),
            "a1": ("(a) one client", "/api/user/me", token, 1),
            "b1": ("(b) one client", "/bench/me-userinfo", token, 1),
        }
        for _label, path, bearer, _clients in variants.values():
            load(port, path, bearer)  # warm every worker and its caches
        # Rounds, each variant once per round in the same order: a drift of the machine's load
        # touches every variant alike, and each ratio is also taken within a round.
        rounds: list[dict[str, tuple[float, list[float], int]]] = []
        for _ in range(ROUNDS):
            rounds.append(
                {key: load(port, path, bearer, n) for key, (_l, path, bearer, n) in variants.items()}
            )
    finally:
        server.terminate()
        server.wait(10)

    return variants, rounds


def _report(name: str, variants: dict, rounds: list, outbound_counts: tuple, measured_latency: float) -> None:
    """The table, the four ratios against their targets, and the outbound-call counts."""
    per_a, per_b, per_c, per_sign_in = outbound_counts
    results = {
        key: (
            statistics.median(r[key][0] for r in rounds),
            [x for r in rounds for x in r[key][1]],
            sum(r[key][2] for r in rounds),
        )
        for key in variants
    }
    rate = {key: r[0] for key, r in results.items()}
    p50 = {key: statistics.median(r[1]) for key, r in results.items()}
    print(
        f"database {name}; gunicorn {WORKERS} workers x 4 threads on 127.0.0.1:{PORT}; {CONCURRENCY} "
        f"keep-alive clients (and 1 where marked); {ROUNDS} rounds of {SECONDS:g} s per variant "
        "(req/s: median of the rounds; latencies: all rounds)"
    )
    latency_note = (
        f"LOCALCLOUD_LATENCY_MS={LATENCY_MS:g}, added by localcloud --latency-ms"
        if LATENCY_MS
        else "LOCALCLOUD_LATENCY_MS unset: no latency added, (b) is on loopback"
    )
    print(f"latency to Cognito for (b): {latency_note}; one userInfo call measured {measured_latency:.1f} ms")
    if LATENCY_MS and measured_latency < 0.8 * LATENCY_MS:
        print("  WARNING: userInfo is faster than the latency setting: was localcloud started without it?")
    print(f"{'variant':<42}{'clients':>8}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'× (d)':>8}{'errors':>8}")
    for key, (rps, latencies, errors) in results.items():
        label, clients = variants[key][0], variants[key][3]
        p99 = statistics.quantiles(latencies, n=100)[98]
        print(
            f"{label:<42}{clients:>8}{rps:>9.0f}{p50[key]:>9.2f}{p99:>9.2f}{rps / rate['d']:>8.2f}{errors:>8}"
        )

    def per_round(top: str, bottom: str, index: int) -> str:
        values = [
            (r[top][0] / r[bottom][0])
            if index == 0
            else statistics.median(r[top][1]) / statistics.median(r[bottom][1])
            for r in rounds
        ]
        return "rounds " + ", ".join(f"{v:.2f}" for v in values)

    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    checks = [
        ("(a)/(a′) req/s", rate["a"] / rate["a'"], ">= 0.9", rate["a"] / rate["a'"] >= 0.9, ("a", "a'", 0)),
        ("(a)/(d) req/s", rate["a"] / rate["d"], ">= 0.5", rate["a"] / rate["d"] >= 0.5, ("a", "d", 0)),
        (
            "(a)/(b) p50, 1 client",
            p50["a1"] / p50["b1"],
            "<= 0.1",
            p50["a1"] <= p50["b1"] / 10,
            ("a1", "b1", 1),
        ),
        (
            f"(a)/(b) p50, {CONCURRENCY} clients",
            p50["a"] / p50["b"],
            "<= 0.1",
            p50["a"] <= p50["b"] / 10,
            ("a", "b", 1),
        ),
    ]
    for label, value, target, ok, pair in checks:
        print(f"{label:<28}{value:6.2f}  (target {target}: {verdict(ok)}; {per_round(*pair)})")
    print(
        f"outbound calls per API request, warm cache: (a) {per_a:g}, (b) {per_b:g}, (c) {per_c:g}; "
        f"per browser sign-in: {per_sign_in}"
    )


if __name__ == "__main__":
    main()
