"""Shell commands of `.rig-agent.yaml` (`buildCommand`, `testCommand`, tool installs), output streamed line by line."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from rig_providers.sandbox import Jail, Sandbox, group_gone

PASSED_ENV = ("PATH", "LANG", "LC_ALL", "TZ", "USER", "SHELL", "TERM")
"""All a repository's commands get of the agent's environment: never its token or model keys (the commands
come from the repository, so they are as untrusted as its issues). HOME and TMPDIR are the sandbox's."""

LineSink = Callable[[str], Awaitable[None]]
"""Where each output line goes (the run's live log)."""

OUTPUT_KEPT = 4000
"""Characters of a command's output kept for the step's detail and the provider's next prompt."""


@dataclass(frozen=True, slots=True)
class CommandResult:
    """How a command ended, with the tail of its output."""

    command: str
    exit_code: int | None
    tail: str
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        """It ran to the end and exited 0."""
        return self.exit_code == 0 and not self.timed_out


async def run_command(command: str, workdir: Path, sink: LineSink, *, timeout_s: float, sandbox: Sandbox,
                      home: Path | None = None) -> CommandResult:
    """Run `command` in a shell inside `sandbox` (rig_providers.sandbox), in its own process group.

    A timeout or a cancellation kills the whole group. `home` is a HOME kept between the commands of one run
    (tools go there).
    """
    env = {name: os.environ[name] for name in PASSED_ENV if name in os.environ} | {"CI": "true"}
    if home is not None:  # tools installed with `--prefix "$HOME/.local"` are found by the next command
        env["PATH"] = f"{home}/.local/bin:{env.get('PATH', os.defpath)}"
    argv, env = sandbox.wrap(["/bin/sh", "-c", command], env, Jail(workdir, home=home))
    process = await asyncio.create_subprocess_exec(
        *argv, cwd=workdir, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        stdin=asyncio.subprocess.DEVNULL, start_new_session=True, env=env)
    tail = ""

    async def pump() -> None:
        nonlocal tail
        assert process.stdout is not None
        async for raw in process.stdout:
            line = raw.decode(errors="replace").rstrip("\n")
            tail = (tail + line + "\n")[-OUTPUT_KEPT:]
            await sink(line)

    try:
        async with asyncio.timeout(timeout_s):
            await pump()
            code = await process.wait()
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        await process.wait()
        await group_gone(process.pid)  # the sandbox's init ends its namespace a moment after
        return CommandResult(command, None, tail, timed_out=True)
    except BaseException:  # cancelled (the agent is stopping): the command goes with everything it started
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        await process.wait()
        raise
    return CommandResult(command, code, tail)
