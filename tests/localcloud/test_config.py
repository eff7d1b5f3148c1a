"""The seed config: "extends" with a deep merge (lists replaced), and full files as before."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from localcloud.config import DEFAULT_CONFIG, Config
from tests.support.localcloud import ROOT, start_stack


def test_test_config_is_the_default_plus_overrides() -> None:
    base = Config.load(DEFAULT_CONFIG)
    test = Config.load(ROOT / "tests" / "localcloud-test.json")
    # The browser tests' live server may run on any of 8000-8012 (`make test LIVE_PORT=...`).
    origins = [f"http://localhost:{port}" for port in range(8000, 8013)]
    assert test.app_client["CallbackURLs"] == [f"{origin}/oidc/callback/" for origin in origins]
    assert test.app_client["LogoutURLs"] == [f"{origin}/" for origin in origins]
    assert test.cors_rules[0]["AllowedOrigins"] == origins
    # The SPA client's URLs: localhost:5173-5179 (tests serve spa/ on their own port).
    spa = [f"http://localhost:{port}/" for port in range(5173, 5180)]
    assert test.spa_client["CallbackURLs"] == test.spa_client["LogoutURLs"] == spa
    assert {k: v for k, v in test.spa_client.items() if not k.endswith("URLs")} == {
        k: v for k, v in base.spa_client.items() if not k.endswith("URLs")
    }
    # Everything else comes from the base, untouched.
    assert test.user_pool == base.user_pool
    assert test.identity_pool == base.identity_pool
    assert test.bucket == base.bucket
    assert {k: v for k, v in test.app_client.items() if not k.endswith("URLs")} == {
        k: v for k, v in base.app_client.items() if not k.endswith("URLs")
    }
    assert "extends" not in test.raw


def test_deep_merge_replaces_lists_and_chains(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text(
        json.dumps(
            {
                "region": "us-east-1",
                "user_pool": {"PoolName": "a", "X": {"y": 1, "z": [1, 2]}},
                "app_client": {"ClientName": "web"},
            }
        )  # fmt: skip
    )
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.json").write_text(
        json.dumps({"extends": "../a.json", "user_pool": {"X": {"z": [3]}}})
    )
    (tmp_path / "c.json").write_text(json.dumps({"extends": "sub/b.json", "region": "eu-west-1"}))
    config = Config.load(tmp_path / "c.json")
    assert config.region == "eu-west-1"
    assert config.raw["user_pool"] == {"PoolName": "a", "X": {"y": 1, "z": [3]}}


def test_circular_or_broken_extends_fail_loudly(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text(json.dumps({"extends": "b.json"}))
    (tmp_path / "b.json").write_text(json.dumps({"extends": "a.json"}))
    with pytest.raises(ValueError, match="circular"):
        Config.load(tmp_path / "a.json")
    (tmp_path / "c.json").write_text(json.dumps({"extends": "missing.json"}))
    with pytest.raises(FileNotFoundError):
        Config.load(tmp_path / "c.json")
    (tmp_path / "d.json").write_text(json.dumps({"extends": "../localcloud/config.json", "region": "x"}))
    with pytest.raises(FileNotFoundError):
        Config.load(tmp_path / "d.json")


def test_stack_starts_from_the_extending_test_config(tmp_path: Path) -> None:
    running = start_stack(tmp_path / "data", ROOT / "tests" / "localcloud-test.json")
    try:
        assert running.bucket == "localcloud-avatars"
        assert running.identity_pool_id.startswith("us-east-1:")
        preflight = requests.options(
            f"{running.s3_base}/{running.bucket}",
            headers={"Origin": "http://localhost:8001", "Access-Control-Request-Method": "POST"},
            timeout=5,
        )
        assert preflight.headers["Access-Control-Allow-Origin"] == "http://localhost:8001"
    finally:
        running.stop()


@pytest.mark.parametrize("minutes", [2, 16, "5", True, 7.5])
def test_a_seed_client_session_validity_out_of_cognitos_range_stops_start_up(tmp_path: Path, minutes) -> None:
    config = json.loads(DEFAULT_CONFIG.read_text())
    config["spa_client"]["AuthSessionValidity"] = minutes
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    with pytest.raises(ValueError, match="spa_client.AuthSessionValidity must be whole minutes from 3 to 15"):
        Config.load(path)
