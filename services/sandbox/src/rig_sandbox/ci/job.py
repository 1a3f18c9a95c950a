"""One CI job: read `testCommand` at a commit, check the commit out into a temporary worktree, run the command.

The command comes from the repository, so it runs as untrusted code would on a runner: in its own process
group (a timeout or a shutdown kills all of it) and with none of the sandbox's environment beyond the basics
(never its webhook secret or anything else `RIG_…`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import yaml

from rig_sandbox.git.repository import GitRepository
from rig_sandbox.git.runner import GitRunner

CONFIG_FILE = ".rig-agent.yaml"
PASSED_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "USER", "SHELL", "TERM")
"""All a test command gets of the sandbox's environment (plus `CI=true`, as runners set it)."""
OUTPUT_KEPT = 4000
"""Characters of the output's tail kept for the check run's summary (GitHub allows 65,535)."""


class ConfigError(ValueError):
    """`.rig-agent.yaml` at the commit cannot be read as a mapping with a text `testCommand`."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """How a test command ended: its exit code (None when killed at the timeout) and its output's tail."""

    exit_code: int | None
    tail: str
    seconds: float

    @property
    def timed_out(self) -> bool:
        """It was killed at the timeout."""
        return self.exit_code is None


async def test_command(git: GitRepository, sha: str) -> str | None:
    """`testCommand` from `.rig-agent.yaml` at `sha`; None when the file or the command is missing."""
    entry = await git.entry(sha, CONFIG_FILE)
    if entry is None or entry.type != "file":
        return None
    try:
        data = yaml.safe_load(await git.blob(entry.sha))
    except yaml.YAMLError as error:
        raise ConfigError(f"{CONFIG_FILE} is not valid YAML: {error}") from error
    if data is None:
        return None
    if not isinstance(data, dict):
        raise ConfigError(f"{CONFIG_FILE} must hold a mapping, not {type(data).__name__}")
    command = data.get("testCommand")
    if command is None or (isinstance(command, str) and not command.strip()):
        return None
    if not isinstance(command, str):
        raise ConfigError(f"testCommand in {CONFIG_FILE} must be text, not {type(command).__name__}")
    return command


@contextlib.asynccontextmanager
async def worktree(runner: GitRunner, git_dir: Path, sha: str) -> AsyncIterator[Path]:
    """`sha` checked out (detached) in a temporary worktree of the bare repository, removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="rig-sandbox-ci-"))
    path = folder / "work"
    try:
        await runner.run(git_dir, "worktree", "add", "--quiet", "--detach", str(path), sha)
        yield path
    finally:
        # Shielded: a cancelled job (shutdown) must still leave no worktree registered in the repository.
        await asyncio.shield(_remove(runner, git_dir, folder, path))


async def _remove(runner: GitRunner, git_dir: Path, folder: Path, path: Path) -> None:
    await runner.run(git_dir, "worktree", "remove", "--force", str(path), check=False)
    await asyncio.to_thread(shutil.rmtree, folder, ignore_errors=True)
    await runner.run(git_dir, "worktree", "prune", check=False)


async def run(command: str, workdir: Path, *, timeout_s: float) -> Outcome:
    """Run `command` in a shell in `workdir`, in its own process group; a timeout or cancellation kills it."""
    env = {name: os.environ[name] for name in PASSED_ENV if name in os.environ} | {"CI": "true"}
    started = time.monotonic()
    process = await asyncio.create_subprocess_shell(
        command, cwd=workdir, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT, start_new_session=True, env=env)
    tail = ""

    async def read() -> int:
        nonlocal tail
        assert process.stdout is not None
        while chunk := await process.stdout.read(65536):
            tail = (tail + chunk.decode(errors="replace"))[-OUTPUT_KEPT:]
        return await process.wait()

    try:
        async with asyncio.timeout(timeout_s):
            code: int | None = await read()
    except TimeoutError:
        code = None
    finally:
        # The shell may have exited while a child it started still runs: the group goes either way.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        if process.returncode is None:
            await asyncio.shield(process.wait())
    return Outcome(code, tail, time.monotonic() - started)
