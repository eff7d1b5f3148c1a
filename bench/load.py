"""`make load`: the site under a realistic mix (bench/locustfile.py, Locust headless) against
gunicorn with 1, 2 and 4 workers, in one run.

For each worker count: a fixed duration of LOAD_USERS simulated people (hosted-UI sign-ins,
profile views and edits, directory searches, API reads and writes, avatar uploads); prints
throughput, p50/p99 per request type, the error count (must be 0: the script exits 1 otherwise),
the most Postgres connections seen, and at the end throughput growth from 1 to 2 to 4 workers.

Everything is its own: a localcloud stack on free ports whose client allows this gunicorn's
callback, and the database `<name>_load_bench` (recreated, migrated), never the developer's.
Settings: LOAD_SECONDS (20), LOAD_USERS (16), LOAD_WORKERS ("1 2 4"), LOAD_THREADS (4),
LOAD_PORT (81xx after LOCALCLOUD_PORT).
"""

from __future__ import annotations

import base64
import csv
import hashlib
import hmac
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
import requests  # noqa: E402

from bench.database import use_bench_database  # noqa: E402

SECONDS = int(os.environ.get("LOAD_SECONDS", "20"))
USERS = int(os.environ.get("LOAD_USERS", "16"))
WORKER_COUNTS = [int(n) for n in os.environ.get("LOAD_WORKERS", "1 2 4").split()]
THREADS = int(os.environ.get("LOAD_THREADS", "4"))
PORT = int(os.environ.get("LOAD_PORT") or 8100 + int(os.environ.get("LOCALCLOUD_PORT") or 9239) % 100)
PY = sys.executable


def start_stack(tmp: Path) -> tuple[subprocess.Popen, dict[str, str]]:
    """localcloud on free ports, its web client allowing http://localhost:PORT; (process, app.env)."""
    config = json.loads((ROOT / "localcloud" / "config.json").read_text())
    config["app_client"]["CallbackURLs"].append(f"http://localhost:{PORT}/oidc/callback/")
    config["app_client"]["LogoutURLs"].append(f"http://localhost:{PORT}/")
    (tmp / "config.json").write_text(json.dumps(config))
    process = subprocess.Popen(
        [PY, "-m", "localcloud", "--port", "0", "--s3-port", "0", "--data-dir", str(tmp / "data"),
         "--config", str(tmp / "config.json")],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    assert process.stdout is not None
    for line in process.stdout:
        if "localcloud ready" in line:
            break
    else:
        raise SystemExit("localcloud did not start")
    threading.Thread(target=lambda: [None for _ in process.stdout], daemon=True).start()  # keep draining
    lines = (tmp / "data" / "app.env").read_text().splitlines()
    return process, dict(line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))


def make_accounts(stack: dict[str, str], count: int) -> list[dict[str, str]]:
    """count confirmed users of the stack's pool, each with an access token for the API."""
    import boto3

    idp = boto3.client(
        "cognito-idp", region_name=stack["COGNITO_REGION"], endpoint_url=stack["AWS_ENDPOINT_URL"],
        aws_access_key_id=stack["AWS_ACCESS_KEY_ID"], aws_secret_access_key=stack["AWS_SECRET_ACCESS_KEY"],
    )  # fmt: skip
    pool, client, secret = (
        stack["COGNITO_USER_POOL_ID"],
        stack["COGNITO_CLIENT_ID"],
        stack["COGNITO_CLIENT_SECRET"],
    )
    people = []
    for n in range(count):
        email, password = f"load-{n}-{secrets.token_hex(3)}@example.com", "Load-pass-1"
        idp.admin_create_user(
            UserPoolId=pool, Username=email, MessageAction="SUPPRESS",
            UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"},
                            {"Name": "name", "Value": f"Load Person {n}"}],
        )  # fmt: skip
        idp.admin_set_user_password(UserPoolId=pool, Username=email, Password=password, Permanent=True)
        digest = hmac.new(secret.encode(), (email + client).encode(), hashlib.sha256).digest()
        tokens = idp.initiate_auth(
            ClientId=client, AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": email, "PASSWORD": password,
                            "SECRET_HASH": base64.b64encode(digest).decode()},
        )["AuthenticationResult"]  # fmt: skip
        people.append({"email": email, "password": password, "access_token": tokens["AccessToken"]})
    return people


def app_env(stack: dict[str, str]) -> dict[str, str]:
    """The servers' environment: the stack's values, the load database, plain-HTTP cookies."""
    return {
        **os.environ, **stack,
        "DJANGO_DEBUG": "true",  # plain HTTP here: Secure cookies would never come back
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "localhost,127.0.0.1",
        "DJANGO_LOG_LEVEL": "ERROR",
    }  # fmt: skip


def start_gunicorn(env: dict[str, str], workers: int, log: Path) -> subprocess.Popen:
    """gunicorn (gthread) on PORT; returns once /api/health answers."""
    server = subprocess.Popen(
        [PY, "-m", "gunicorn", "project.wsgi:application", "--bind", f"127.0.0.1:{PORT}", "--workers",
         str(workers), "--worker-class", "gthread", "--threads", str(THREADS), "--log-level", "error"],
        cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and server.poll() is None:
        try:
            if requests.get(f"http://localhost:{PORT}/api/health", timeout=2).status_code == 200:
                return server
        except requests.RequestException:
            pass
        time.sleep(0.2)
    server.terminate()
    raise SystemExit(
        f"gunicorn did not start on {PORT} (is it taken? set LOAD_PORT):\n{log.read_text()[-2000:]}"
    )


def connections(database: str) -> int:
    """Client connections to the load database now."""
    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [database]
        ).fetchone()
    return int(row[0]) if row else 0


def run(env: dict[str, str], workers: int, tmp: Path, database: str) -> dict:
    """One headless Locust run against gunicorn with `workers` workers: its stats."""
    server = start_gunicorn(env, workers, tmp / f"gunicorn-{workers}.log")
    load_before = os.getloadavg()[0]
    peak, stop = [0], threading.Event()

    def sample() -> None:
        while not stop.wait(0.5):
            peak[0] = max(peak[0], connections(database))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    prefix = tmp / f"w{workers}"
    try:
        subprocess.run(
            [PY, "-m", "locust", "-f", str(ROOT / "bench" / "locustfile.py"), "--headless", "--host",
             f"http://localhost:{PORT}", "-u", str(USERS), "-r", str(USERS), "-t", f"{SECONDS}s",
             "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING", "--stop-timeout", "10"],
            cwd=ROOT, env={**os.environ, "LOAD_ACCOUNTS": str(tmp / "accounts.json")}, check=False,
            stdout=subprocess.DEVNULL, stderr=(tmp / f"locust-{workers}.log").open("w"),
        )  # fmt: skip
    finally:
        stop.set()
        sampler.join()
        server.terminate()
        server.wait(30)
    stats = Path(f"{prefix}_stats.csv")
    if not stats.exists():
        raise SystemExit(
            "locust wrote no statistics:\n" + (tmp / f"locust-{workers}.log").read_text()[-3000:]
        )
    with stats.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    return {"workers": workers, "rows": rows, "connections": peak[0],
            "load": (load_before, os.getloadavg()[0])}  # fmt: skip


def report(result: dict) -> tuple[float, int]:
    """Print one run's table; (requests per second, errors)."""
    print(f"\n{result['workers']} worker(s) x {THREADS} threads, {USERS} users, {SECONDS} s; "
          f"Postgres connections used (peak): {result['connections']}; "
          f"machine load average {result['load'][0]:.1f} before, {result['load'][1]:.1f} after")  # fmt: skip
    print(f"  {'request':38} {'count':>7} {'errors':>6} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7}")
    total = None
    for row in result["rows"]:
        line = (f"  {row['Name'][:38]:38} {row['Request Count']:>7} {row['Failure Count']:>6} "
                f"{float(row['Requests/s']):7.1f} {row['50%']:>7} {row['99%']:>7}")  # fmt: skip
        if row["Name"] == "Aggregated":
            total = row
        else:
            print(line)
    assert total is not None
    print(line)
    return float(total["Requests/s"]), int(total["Failure Count"])


def main() -> None:
    database = use_bench_database("load", reset=True)
    tmp = Path(tempfile.mkdtemp(prefix="load-"))
    stack_process, stack = start_stack(tmp)
    try:
        env = app_env(stack) | {"DATABASE_URL": os.environ["DATABASE_URL"]}
        for command in (["migrate", "--verbosity", "0"], ["createcachetable"]):
            subprocess.run([PY, "manage.py", *command], cwd=ROOT, env=env, check=True)
        (tmp / "accounts.json").write_text(json.dumps({"people": make_accounts(stack, USERS)}))
        print(f"load: database {database}; gunicorn on 127.0.0.1:{PORT}; localcloud {stack['COGNITO_DOMAIN']}; "
              f"{os.cpu_count()} CPUs seen")  # fmt: skip
        results = [report(run(env, workers, tmp, database)) for workers in WORKER_COUNTS]
    finally:
        stack_process.terminate()
        stack_process.wait(30)
        shutil.rmtree(tmp, ignore_errors=True)
    base = results[0][0] or 1.0
    growth = "  ".join(
        f"{n} worker(s): {rps:.1f} req/s = {rps / base:.2f}x"
        for n, (rps, _) in zip(WORKER_COUNTS, results, strict=True)
    )
    print(f"\nthroughput growth: {growth}")
    errors = sum(e for _, e in results)
    print(f"errors: {errors}")
    if errors:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
