"""Repository commands (`buildCommand`, `testCommand`, tool installs) run inside the workloads' sandbox."""

from __future__ import annotations

import subprocess
from pathlib import Path

import psutil  # type: ignore[import-untyped]
import pytest

from rig_agent.commands import run_command
from rig_providers.sandbox import Sandbox


async def run(command: str, workdir: Path, home: Path | None = None, timeout_s: float = 60.0) -> tuple[list[str], bool]:
    lines: list[str] = []

    async def sink(line: str) -> None:
        lines.append(line)

    result = await run_command(command, workdir, sink, timeout_s=timeout_s, sandbox=Sandbox.detect(required=True),
                               home=home)
    return lines, result.ok


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    path = tmp_path / "work" / "acme__app" / "7"
    path.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    return path


async def test_a_command_gets_none_of_the_agents_environment(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RIG_AGENT_TOKEN", "agent-token-value-never-seen")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-model-key-never-seen")
    lines, ok = await run("env; tr '\\0' '\\n' < /proc/$PPID/environ; ls /proc", workdir)
    text = "\n".join(lines)
    assert ok and "CI=true" in text
    assert "never-seen" not in text and "RIG_" not in text


async def test_a_tool_installed_into_home_is_found_by_the_next_command(workdir: Path) -> None:
    home = workdir.with_name("7.home")
    install = 'mkdir -p "$HOME/.local/bin" && printf "#!/bin/sh\\necho tool works\\n" > "$HOME/.local/bin/mytool"' \
              ' && chmod +x "$HOME/.local/bin/mytool"'
    assert (await run(install, workdir, home))[1]
    lines, ok = await run("mytool", workdir, home)
    assert ok and lines == ["tool works"]


async def test_a_system_folder_is_read_only_and_the_workspace_writable(workdir: Path) -> None:
    planted = Path("/usr/planted-by-a-workload")
    lines, ok = await run(f"touch {planted} || echo refused; echo made > made.txt", workdir)
    assert ok and "refused" in lines and (workdir / "made.txt").read_text() == "made\n"
    assert not exists(planted)


def exists(path: Path) -> bool:
    return path.exists()


async def test_a_timeout_kills_everything_the_command_started(workdir: Path) -> None:
    lines: list[str] = []

    async def sink(line: str) -> None:
        lines.append(line)

    result = await run_command("sleep 61 & sleep 62", workdir, sink, timeout_s=1.0,
                               sandbox=Sandbox.detect(required=True))
    assert result.timed_out and not result.ok
    left = [p for p in psutil.process_iter(["cmdline"]) if (p.info["cmdline"] or [""])[0] == "sleep"
            and p.info["cmdline"][1:] in (["61"], ["62"]) and p.status() != psutil.STATUS_ZOMBIE]
    assert left == []
