"""Fixtures for localcloud's tests: real server processes on free ports, real HTTP clients."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.localcloud import ALICE, Faults, Person, Stack, s3_person, start_stack, write_config


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The shared localcloud instance for most tests."""
    tmp = tmp_path_factory.mktemp("localcloud")
    running = start_stack(tmp / "data", write_config(tmp / "config.json"), extra=("--faults",))
    yield running
    running.stop()


@pytest.fixture
def private_stack(tmp_path: Path) -> Iterator[Callable[..., Stack]]:
    """start(**config_changes) → a private instance (restart/rotation/reset/expiry tests)."""
    started: list[Stack] = []

    def start(data_dir: Path | None = None, extra: tuple[str, ...] = (), **changes: Any) -> Stack:
        config = write_config(tmp_path / f"config-{len(started)}.json", **changes)
        running = start_stack(data_dir or tmp_path / "data", config, extra=extra)
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()


@pytest.fixture
def faults(stack: Stack) -> Iterator[Faults]:
    """The shared stack's fault switch, cleared before and after the test."""
    switch = stack.faults()
    switch.clear()
    yield switch
    switch.clear()


@pytest.fixture
def new_stack_user(stack: Stack) -> Callable[..., tuple[str, str]]:
    """new_stack_user(name="Test Person") → (email, password) of a fresh confirmed user of `stack`."""

    def make(name: str = "Test Person") -> tuple[str, str]:
        email = f"user-{secrets.token_hex(5)}@example.com"
        password = "Test-pass-1"
        idp = stack.idp()
        idp.admin_create_user(
            UserPoolId=stack.pool_id,
            Username=email,
            UserAttributes=[
                {"Name": "email", "Value": email},
                {"Name": "email_verified", "Value": "true"},
                {"Name": "name", "Value": name},
                {"Name": "custom:role", "Value": "student"},
            ],
            MessageAction="SUPPRESS",
        )
        idp.admin_set_user_password(
            UserPoolId=stack.pool_id, Username=email, Password=password, Permanent=True
        )
        return email, password

    return make


@pytest.fixture(scope="module")
def people(stack: Stack) -> dict[str, Person]:
    """alice (seeded), bob (created here) and a guest."""
    idp = stack.idp()
    bob = f"bob-{int(time.time() * 1000)}@example.com"
    idp.admin_create_user(UserPoolId=stack.pool_id, Username=bob, MessageAction="SUPPRESS")
    idp.admin_set_user_password(UserPoolId=stack.pool_id, Username=bob, Password="Bob-pass-1", Permanent=True)
    return {
        "alice": s3_person(stack, stack.api_login(*ALICE)["IdToken"]),
        "bob": s3_person(stack, stack.api_login(bob, "Bob-pass-1")["IdToken"]),
        "guest": s3_person(stack),
    }
