"""Secrets stay in app.env (0600): not on localcloud's console, and services.sh's files are private."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

from tests.support.localcloud import ROOT, Stack, free_port

SECRETS = ("AWS_SECRET_ACCESS_KEY", "COGNITO_CLIENT_SECRET")


def test_the_start_up_banner_prints_no_secret(stack: Stack) -> None:
    banner = "".join(stack.output)
    assert "localcloud ready" in banner
    for key in SECRETS:
        assert stack.env[key] not in banner, key
        assert f"  {key}=(secret: see app.env)" in banner
    assert f"  COGNITO_CLIENT_ID={stack.client_id}" in banner
    assert str(stack.data_dir / "app.env") in banner


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _services(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": "postgres://unused@127.0.0.1:1/unused",  # no Postgres is started
        "LOCALCLOUD_PORT": str(free_port()),
        "LOCALCLOUD_S3_PORT": str(free_port()),
    }
    return subprocess.run(
        [str(project / "devtools" / "services.sh"), *args],
        cwd=project, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_services_sh_keeps_its_run_files_private(tmp_path: Path) -> None:
    # A copy of the project's layout, so the real .run/ and .localcloud/ are not touched.
    project = tmp_path / "project"
    (project / "devtools").mkdir(parents=True)
    shutil.copy2(ROOT / "devtools" / "services.sh", project / "devtools" / "services.sh")
    (project / "localcloud").symlink_to(ROOT / "localcloud")
    (project / ".venv").symlink_to(ROOT / ".venv")
    run = project / ".run"
    run.mkdir(mode=0o755)  # as an older services.sh left it
    run.chmod(0o755)
    old_log = run / "dev-localcloud.log"
    old_log.write_text("old\n")
    old_log.chmod(0o644)
    try:
        up = _services(project, "up", "dev")
        assert up.returncode == 0, up.stderr
        assert _mode(run) == 0o700
        for name in ("dev-localcloud.log", "dev-localcloud.pid", "dev.env", "dev.up"):
            assert _mode(run / name) == 0o600, name
        log = (run / "dev-localcloud.log").read_text()
        env = (project / ".localcloud" / "app.env").read_text()
        values = dict(line.split("=", 1) for line in env.splitlines() if "=" in line and line[0] != "#")
        for key in SECRETS:
            assert values[key] not in log, key
    finally:
        down = _services(project, "down", "dev")
    assert down.returncode == 0, down.stderr
