"""Benchmarks and tests never touch the developer's database (finding 15)."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import pytest
from django.db import connection

from bench.database import (
    NotABenchDatabase,
    bench_database_url,
    refuse_unless_bench_database,
    use_bench_database,
)

DEV = "postgres://postgres@127.0.0.1:54329/app"


def test_the_bench_database_is_derived_from_the_dev_one_and_never_is_it():
    assert bench_database_url(DEV, "api") == "postgres://postgres@127.0.0.1:54329/app_api_bench"
    assert bench_database_url(DEV) == "postgres://postgres@127.0.0.1:54329/app_bench"
    assert bench_database_url(DEV + "?sslmode=disable", "avatars").endswith(
        "/app_avatars_bench?sslmode=disable"
    )
    with pytest.raises(ValueError):
        bench_database_url("postgres://postgres@127.0.0.1:54329/")


@pytest.mark.parametrize("name", ["app", "test_app", "app_bench_copy", "postgres"])
def test_a_benchmark_refuses_any_database_not_named_for_it(name):
    with pytest.raises(NotABenchDatabase):
        refuse_unless_bench_database(name)
    refuse_unless_bench_database("app_api_bench")


def test_use_bench_database_moves_database_url_off_the_dev_database(monkeypatch):
    # The test services' URL names `app`, as `make dev` does: the bench must leave it.
    dev_url = os.environ["DATABASE_URL"]
    monkeypatch.setenv("DATABASE_URL", dev_url)
    name = use_bench_database("unittest", reset=True)
    assert name == urlsplit(dev_url).path.lstrip("/") + "_unittest_bench"
    assert os.environ["DATABASE_URL"].endswith(f"/{name}")
    import psycopg

    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:  # it exists and is reachable
        assert conn.execute("SELECT current_database()").fetchone()[0] == name
    admin = dev_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.mark.django_db
def test_pytest_runs_on_its_own_database_not_the_dev_one():
    """pytest-django prefixes the configured name with test_ (test_app): never `app` itself."""
    dev_name = urlsplit(os.environ["DATABASE_URL"]).path.lstrip("/")
    assert connection.settings_dict["NAME"] == f"test_{dev_name}"
