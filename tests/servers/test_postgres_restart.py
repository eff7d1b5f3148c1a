"""Postgres restarted under load: the servers' connections recover, and while it is down each
request is a clear 503 (never a 500, never a hang); nothing acknowledged is lost, nothing refused
is half-written. A server with DEBUG on (as `make dev` runs) answers the outage as production does."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import pytest
import requests

from tests.support.servers import (
    PROXY_HEADERS,
    AppServer,
    Browser,
    local_postgres_is_ours,
    make_stack_user,
    restart_local_postgres,
    start_app_server,
    start_local_postgres,
    stop_local_postgres,
)
from tests.support.waiting import wait_until

pytestmark = pytest.mark.django_db(transaction=True)

# After Postgres accepts connections again, every request must succeed once this much time has passed.
RETRY_WINDOW = 1.0


@dataclass
class Result:
    started: float
    kind: str
    status: int  # 0: the client got no answer (connection error or timeout)
    body: str = ""


@dataclass
class Load:
    """Page and API readers on both servers and one API writer, recording every answer."""

    servers: list[AppServer]
    cookies: requests.cookies.RequestsCookieJar
    api: dict[str, str]
    results: list[Result] = field(default_factory=list)
    acknowledged: list[str] = field(default_factory=list)  # bios the API said it saved, in order
    stop: threading.Event = field(default_factory=threading.Event)

    def record(self, kind: str, method: str, url: str, session: requests.Session, **kwargs) -> int:
        started = time.monotonic()
        try:
            response = session.request(method, url, allow_redirects=False, timeout=10, **kwargs)
        except requests.RequestException:
            self.results.append(Result(started, kind, 0))
            return 0
        self.results.append(Result(started, kind, response.status_code, response.text[:2000]))
        return response.status_code

    def reader(self, index: int) -> None:
        pages = requests.Session()
        pages.headers.update(PROXY_HEADERS)
        pages.cookies.update(self.cookies)
        api = requests.Session()
        api.headers.update(self.api)
        base = self.servers[index % len(self.servers)].base
        while not self.stop.is_set():
            self.record("page", "GET", f"{base}/me/", pages)
            self.record("api", "GET", f"{base}/api/user/me", api)

    def writer(self) -> None:
        api = requests.Session()
        api.headers.update(self.api)
        n = 0
        while not self.stop.is_set():
            n += 1
            base = self.servers[n % len(self.servers)].base
            if self.record("write", "PATCH", f"{base}/api/user/me", api, json={"bio": f"write {n}"}) == 200:
                self.acknowledged.append(f"write {n}")

    def run_while(self, action) -> None:
        threads = [threading.Thread(target=self.reader, args=(i,)) for i in range(2)]
        threads.append(threading.Thread(target=self.writer))
        for thread in threads:
            thread.start()
        try:
            action()
        finally:
            self.stop.set()
            for thread in threads:
                thread.join(timeout=30)


def test_postgres_restarted_under_load(cluster):
    if not local_postgres_is_ours():
        pytest.skip("DATABASE_URL is not the project-local cluster: this test restarts it")
    email, password = make_stack_user(cluster.stack, "Under Load")
    browser = Browser()
    assert browser.sign_in(cluster.servers[0].base, email, password).status_code == 302
    assert browser.get(cluster.servers[1].base, "/me/").status_code == 200
    token = cluster.stack.api_login(email, password)["AccessToken"]
    load = Load(cluster.servers, browser.app.cookies, {"Authorization": f"Bearer {token}", **PROXY_HEADERS})
    times: dict[str, float] = {}

    def restart() -> None:
        wait_until(lambda: len(load.results) >= 20, timeout=30, what="load before the restart")
        times["down"] = time.monotonic()
        restart_local_postgres()
        times["up"] = time.monotonic()
        settled = times["up"] + RETRY_WINDOW
        wait_until(
            lambda: sum(r.started > settled for r in load.results) >= 30, timeout=60, what="load after"
        )

    load.run_while(restart)
    from django.db import connection

    connection.close()  # this process's own connection died with the restart too

    results, settled = load.results, times["up"] + RETRY_WINDOW
    assert [r for r in results if times["down"] <= r.started <= times["up"]], "no request during the restart"
    assert [r for r in results if r.status == 0] == [], "a request got no answer"
    assert [r for r in results if r.status not in (200, 503)] == []
    for refused in (r for r in results if r.status == 503):  # a clear message, in each interface's shape
        assert "briefly unavailable" in refused.body, refused
    late = [r for r in results if r.started > settled and r.status != 200]
    assert late == [], f"{len(late)} failures after the retry window: {late[:3]}"
    # Nothing lost, nothing half-written: the profile holds the last write the API acknowledged
    # (a refused write changed nothing).
    final = requests.get(f"{cluster.servers[0].base}/api/user/me", headers=load.api, timeout=10).json()
    assert final["profile"]["bio"] == load.acknowledged[-1]


def test_debug_on_answers_a_database_outage_with_the_same_503_as_production(cluster, tmp_path):
    """Postgres stopped for real: a signed-in page (the session is loaded by a middleware), a public
    page (its view reads the database) and the API answer 503 with Retry-After on a server with
    DEBUG on as on one with DEBUG off, never Django's technical 500."""
    if not local_postgres_is_ours():
        pytest.skip("DATABASE_URL is not the project-local cluster: this test stops it")
    debug = start_app_server({**cluster.env, "DJANGO_DEBUG": "true"}, tmp_path / "debug.log")
    production = cluster.servers[0]
    try:
        email, password = make_stack_user(cluster.stack, "Outage Person")
        browser = Browser()  # signed in on one server: the session (one database, one key) is everybody's
        assert browser.sign_in(production.base, email, password).status_code == 302
        token = cluster.stack.api_login(email, password)["AccessToken"]
        api = {"Authorization": f"Bearer {token}", **PROXY_HEADERS}
        for server in (production, debug):
            assert browser.get(server.base, "/me/").status_code == 200, server.base
            assert requests.get(f"{server.base}/api/user/me", headers=api, timeout=10).status_code == 200

        stop_local_postgres()
        try:
            for server in (production, debug):
                answers = {
                    "signed-in page": browser.get(server.base, "/me/"),
                    "public page": requests.get(
                        f"{server.base}/u/somebody/", headers=PROXY_HEADERS, timeout=10
                    ),
                    "API": requests.get(f"{server.base}/api/user/me", headers=api, timeout=10),
                }
                for what, answer in answers.items():
                    where = f"{what} on {server.base} ({'DEBUG' if server is debug else 'production'})"
                    assert answer.status_code == 503, (where, answer.status_code, answer.text[:300])
                    assert answer.headers.get("Retry-After") == "5", where
                    assert "briefly unavailable" in answer.text and "Traceback" not in answer.text, where
                assert answers["API"].headers["Content-Type"] == "application/problem+json"
        finally:
            start_local_postgres()
        for server in (production, debug):  # back as soon as Postgres is
            wait_until(
                lambda s=server: browser.get(s.base, "/me/").status_code == 200, timeout=30, what=server.base
            )
    finally:
        debug.stop()
        from django.db import connection

        connection.close()  # this process's own connection died with the stop too
