"""The installed `rig` command as a real process: its groups, the sandbox group, embedded servers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cli_support import RIG_VARIABLES, environment, rig

RIG = Path(sys.executable).with_name("rig")


def run_rig(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(RIG), *args], env=env, text=True, capture_output=True, timeout=60, check=False)


def bare_environment(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in RIG_VARIABLES}
    return env | values


def test_the_console_script_lists_every_command():
    result = run_rig("--help", env=bare_environment())
    assert result.returncode == 0, result.stderr
    for command in ("status", "tokens", "dead", "replay", "republish", "acl", "sandbox"):
        assert command in result.stdout


async def test_sandbox_lists_its_commands(tmp_path):
    result = await rig(["sandbox", "--help"], environment(tmp_path))
    assert result.exit_code == 0
    for command in ("repo", "issue", "label", "push", "check", "status", "deliveries"):
        assert command in result.stdout


@pytest.mark.slow
def test_without_a_redis_url_rig_uses_the_embedded_valkey_under_the_data_dir(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("rig")
    result = run_rig("dead", "list", env=bare_environment(RIG_DATA_DIR=str(data_dir), RIG_KEY_PREFIX="t:"))
    assert result.returncode == 0, result.stderr
    assert "No dead letters in t:rig:dead." in result.stdout
    assert (data_dir / "redis" / "appendonlydir").exists() or (data_dir / "redis" / "redis.log").exists()
    assert not (data_dir / "postgres").exists(), "a Valkey-only command must leave PostgreSQL alone"
