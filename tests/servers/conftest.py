"""Two app servers (gunicorn) on one Postgres database and one localcloud stack of their own."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.support.localcloud import Stack, free_port, start_stack
from tests.support.servers import AppServer, server_env, stack_config_for, start_app_server

# API_CONFIRM_TOKENS_TTL of the servers: the bound on a disabled user's access token (seconds).
CONFIRM_TTL = 2


@dataclass
class Cluster:
    """The stack, the servers, and the database they share (the test run's own)."""

    stack: Stack
    servers: list[AppServer]
    database: str
    env: dict[str, str]  # the servers' environment (production settings), for more servers like them


@pytest.fixture(scope="module")
def cluster(django_db_setup, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """Two gunicorn servers on the test database and a stack whose client allows their callbacks."""
    from django.db import connection

    tmp = tmp_path_factory.mktemp("servers")
    ports = [free_port(), free_port()]
    stack = start_stack(tmp / "data", stack_config_for(tmp / "config.json", ports), extra=("--faults",))
    database = connection.settings_dict["NAME"]
    env = server_env(stack, database, API_CONFIRM_TOKENS="true", API_CONFIRM_TOKENS_TTL=str(CONFIRM_TTL))
    servers: list[AppServer | Exception] = [RuntimeError("not started")] * len(ports)

    def start(index: int) -> None:
        try:
            servers[index] = start_app_server(env, tmp / f"server-{index}.log", port=ports[index])
        except (RuntimeError, OSError) as exc:  # reported below, after both tried
            servers[index] = exc

    threads = [threading.Thread(target=start, args=(i,)) for i in range(len(ports))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    started = [s for s in servers if isinstance(s, AppServer)]
    try:
        failed = [s for s in servers if not isinstance(s, AppServer)]
        if failed:
            raise failed[0]
        yield Cluster(stack, started, database, env)
    finally:
        for server in started:
            server.stop()
        stack.stop()
