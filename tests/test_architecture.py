"""The layout the README promises, checked: who may import what."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NETWORK_LIBRARIES = {"boto3", "botocore", "requests"}


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports (top level or inside functions)."""
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules


def app_files(*packages: str) -> list[Path]:
    return sorted(p for package in packages for p in (ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("path", app_files("accounts"), ids=lambda p: str(p.relative_to(ROOT)))
def test_accounts_imports_nothing_from_profiles(path: Path) -> None:
    assert not {m for m in imported_modules(path) if m.split(".")[0] == "profiles"}


@pytest.mark.parametrize("path", app_files("profiles"), ids=lambda p: str(p.relative_to(ROOT)))
def test_profiles_takes_only_the_sign_in_signal_from_accounts(path: Path) -> None:
    assert {m for m in imported_modules(path) if m.split(".")[0] == "accounts"} <= {"accounts.signals"}


@pytest.mark.parametrize(
    "path", app_files("accounts", "profiles", "project"), ids=lambda p: str(p.relative_to(ROOT))
)
def test_only_the_integrations_talk_to_the_network(path: Path) -> None:
    if path.parent == ROOT / "project" / "integrations":
        return
    assert not {m for m in imported_modules(path) if m.split(".")[0] in NETWORK_LIBRARIES}
