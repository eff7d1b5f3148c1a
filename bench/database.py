"""The benchmarks' own databases, derived from DATABASE_URL: never the developer's (finding 15).

`make bench` runs with the same DATABASE_URL as `make dev` (database `app`); a benchmark that
signed users in there would leave them in the developer's data. Every script here moves to
`<name>_<purpose>_bench` before Django starts and refuses to run on any database not so named.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

SUFFIX = "_bench"


class NotABenchDatabase(SystemExit):
    """Raised (exiting the script) before a benchmark could touch a database not its own."""


def bench_database_url(url: str, purpose: str = "") -> str:
    """The URL of the benchmark database derived from `url`: same server, `<name>[_<purpose>]_bench`."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name or "/" in name:
        raise ValueError(f"no database name in {url!r}")
    bench = f"{name}_{purpose}{SUFFIX}" if purpose else f"{name}{SUFFIX}"
    return urlunsplit(parts._replace(path=f"/{bench}"))


def refuse_unless_bench_database(name: str) -> None:
    if not name.endswith(SUFFIX):
        raise NotABenchDatabase(f"refusing to benchmark against database {name!r}: only *{SUFFIX} databases")


def use_bench_database(purpose: str = "", *, reset: bool) -> str:
    """Point DATABASE_URL at this benchmark's database (created; dropped first when `reset`)."""
    import psycopg

    url = bench_database_url(os.environ["DATABASE_URL"], purpose)
    name = urlsplit(url).path.lstrip("/")
    refuse_unless_bench_database(name)
    admin = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        if reset:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = url
    return name


def check_django_database() -> None:
    """After django.setup(): the connection Django will use is a benchmark database."""
    from django.db import connection

    refuse_unless_bench_database(connection.settings_dict["NAME"])
