"""The seed config: "extends" with a deep merge (lists replaced), and full files as before."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from localcloud.config import DEFAULT_CONFIG, Config, ConfigError
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


@pytest.mark.parametrize("minutes", [2, 16, "16", "abc", "5.5", "", True, 7.5])
def test_a_seed_client_session_validity_out_of_cognitos_range_stops_start_up(tmp_path: Path, minutes) -> None:
    config = json.loads(DEFAULT_CONFIG.read_text())
    config["spa_client"]["AuthSessionValidity"] = minutes
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    with pytest.raises(ValueError, match="spa_client.AuthSessionValidity must be whole minutes from 3 to 15"):
        Config.load(path)


@pytest.mark.parametrize(("given", "minutes"), [("5", 5), (" 7 ", 7), (15, 15)])
def test_a_quoted_whole_number_session_validity_is_taken_as_the_number(
    tmp_path: Path, given, minutes
) -> None:
    """As CloudFormation takes "5" for an integer property (a Number parameter's Ref is a string),
    and as the seed takes a quoted AccessTokenValidity."""
    config = json.loads(DEFAULT_CONFIG.read_text())
    config["app_client"]["AuthSessionValidity"] = given
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    assert Config.load(path).app_client["AuthSessionValidity"] == minutes


def test_a_template_number_parameter_sets_the_session_validity(tmp_path: Path) -> None:
    text = (ROOT / "infra" / "template.yaml").read_text()
    assert text.count("AuthSessionValidity: 3") == 2
    text = text.replace("AuthSessionValidity: 3", "AuthSessionValidity: !Ref SessionMinutes", 1)
    text = text.replace("Parameters:\n", "Parameters:\n  SessionMinutes: {Type: Number, Default: 5}\n", 1)
    path = tmp_path / "t.yaml"
    path.write_text(text)
    local = {"AppOrigins": "http://localhost:8000", "SpaOrigins": "http://localhost:5173"}
    assert Config.load_template(path, local).app_client["AuthSessionValidity"] == 5
    with pytest.raises(ValueError, match="AuthSessionValidity must be whole minutes from 3 to 15, not '2'"):
        Config.load_template(path, {**local, "SessionMinutes": "2"})


@pytest.mark.parametrize("seconds", ["abc", -1, "1.5", True, [60]])
def test_an_email_code_lifetime_that_is_not_whole_seconds_is_a_config_error(tmp_path: Path, seconds) -> None:
    config = json.loads(DEFAULT_CONFIG.read_text())
    config["passwordless"] = {"code_seconds": seconds}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    with pytest.raises(ConfigError, match="passwordless.code_seconds must be whole seconds"):
        Config.load(path)


def test_the_cli_reports_a_bad_email_code_lifetime_without_a_traceback(tmp_path: Path) -> None:
    config = json.loads(DEFAULT_CONFIG.read_text())
    config["passwordless"] = {"code_seconds": "abc"}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    command = ["serve", "--config", str(path), "--data-dir", str(tmp_path / "d"), "--port", "0"]
    done = subprocess.run(
        [sys.executable, "-m", "localcloud", *command],
        capture_output=True, text=True, timeout=60, cwd=ROOT, check=False,
    )  # fmt: skip
    assert done.returncode != 0
    assert "passwordless.code_seconds must be whole seconds" in done.stderr
    assert "Traceback" not in done.stderr
