"""The package builds and installs on its own, offline, as `uv tool install` and pipx (pip in a venv) install it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from hook_support import Conductor, conductor_running, hook_environment

PACKAGE = Path(__file__).parents[1]
pytestmark = pytest.mark.slow


def uv() -> str:
    found = shutil.which("uv")
    assert found, "uv is not on PATH: `make sync` installs it"
    return found


def offline(tmp_path: Path) -> dict[str, str]:
    """uv with no network and no Python downloads: only the wheel and the local cache may be used."""
    env = hook_environment(tmp_path / "home", UV_OFFLINE="1", UV_PYTHON_DOWNLOADS="never",
                           UV_TOOL_DIR=str(tmp_path / "tools"), UV_TOOL_BIN_DIR=str(tmp_path / "bin"))
    env.pop("VIRTUAL_ENV", None)
    env["UV_CACHE_DIR"] = os.environ.get("UV_CACHE_DIR") or str(Path.home() / ".cache" / "uv")
    return env


def run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, f"{args}: {done.stderr}"
    return done


def reports_alone(executable: Path, python: Path, tmp_path: Path, conductor: Conductor) -> None:
    """The installed command reports for real, from an environment in which no rig library exists."""
    env = hook_environment(tmp_path / "home", CONDUCTOR_E_URL=conductor.url, CONDUCTOR_E_TOKEN="a.b.c",
                           CONDUCTOR_E_AGENT_ID="alice")
    done = run([str(executable), "HEARTBEAT", "working", "--strict"], env, tmp_path)
    assert done.stderr == ""
    assert conductor.requests[-1].body == {"type": "HEARTBEAT", "agentId": "alice", "status": "working"}
    absent = subprocess.run([str(python), "-c", "import rig_contracts"], capture_output=True, check=False, timeout=60)
    assert absent.returncode != 0


def test_wheel_has_no_dependencies_and_uv_tool_install_works_offline(tmp_path: Path):
    env = offline(tmp_path)

    run([uv(), "build", "--wheel", "--out-dir", str(tmp_path / "dist"), str(PACKAGE)], env, tmp_path)
    run([uv(), "tool", "install", str(PACKAGE)], env, tmp_path)

    [wheel] = (tmp_path / "dist").glob("conductor_e_hook-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        [metadata] = [name for name in archive.namelist() if name.endswith(".dist-info/METADATA")]
        assert "Requires-Dist" not in archive.read(metadata).decode()
    help_text = run([str(tmp_path / "bin" / "conductor-e-hook"), "--help"], env, tmp_path).stdout
    assert "install" in help_text and "HEARTBEAT" in help_text
    with conductor_running() as conductor:
        reports_alone(tmp_path / "bin" / "conductor-e-hook", tmp_path / "tools" / "conductor-e-hook" / "bin" / "python",
                      tmp_path, conductor)


def test_pip_installs_the_wheel_into_a_plain_venv_without_an_index(tmp_path: Path):
    env = offline(tmp_path)
    run([uv(), "build", "--wheel", "--out-dir", str(tmp_path / "dist"), str(PACKAGE)], env, tmp_path)
    [wheel] = (tmp_path / "dist").glob("conductor_e_hook-*.whl")

    # What pipx does: a venv of the standard library's own, then pip, with no package index to fall back on.
    base_python = getattr(sys, "_base_executable", sys.executable)
    run([base_python, "-m", "venv", str(tmp_path / "venv")], env, tmp_path)
    run([str(tmp_path / "venv" / "bin" / "python"), "-m", "pip", "install", "--no-index", "--quiet", str(wheel)],
        env, tmp_path)

    with conductor_running() as conductor:
        reports_alone(tmp_path / "venv" / "bin" / "conductor-e-hook", tmp_path / "venv" / "bin" / "python",
                      tmp_path, conductor)
