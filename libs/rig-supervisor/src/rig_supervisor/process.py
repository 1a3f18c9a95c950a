"""One child process: started in its own process group, its output prefixed, stopped with everything it started."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import time
from collections.abc import Mapping, Sequence

log = logging.getLogger(__name__)


class Child:
    """A named child process (a service, the edge or an agent)."""

    def __init__(self, name: str, argv: Sequence[str], env: Mapping[str, str], *, echo: bool = True) -> None:
        self.name = name
        self.argv = list(argv)
        self.env = dict(env)
        self.echo = echo
        self.process: asyncio.subprocess.Process | None = None
        self.started_at = 0.0
        self.restarts = 0
        self._pump: asyncio.Task[None] | None = None

    @property
    def pid(self) -> int | None:
        """The running process's id."""
        return self.process.pid if self.process and self.process.returncode is None else None

    @property
    def running(self) -> bool:
        """Whether the process is alive."""
        return self.process is not None and self.process.returncode is None

    async def start(self) -> None:
        """Start the process in a new session, so stopping it also stops whatever it started."""
        self.process = await asyncio.create_subprocess_exec(
            *self.argv, env=self.env, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT, start_new_session=True)
        self.started_at = time.monotonic()
        self._pump = asyncio.create_task(self._copy_output(self.process), name=f"{self.name} output")

    async def _copy_output(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        async for line in process.stdout:
            if self.echo:
                sys.stdout.write(f"{self.name:>10} | {line.decode(errors='replace')}")
                sys.stdout.flush()

    async def wait(self) -> int:
        """Wait for the process to end; return its status."""
        assert self.process is not None
        status = await self.process.wait()
        if self._pump is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump
        return status

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Send `sig` to the process's whole group."""
        if self.process is not None and self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)

    async def stop(self, grace_s: float = 10.0) -> None:
        """SIGTERM the group, then SIGKILL it after `grace_s`."""
        if not self.running:
            return
        self.kill(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.wait(), grace_s)
        except TimeoutError:
            log.warning("%s did not stop within %.0fs; killing it", self.name, grace_s)
            self.kill(signal.SIGKILL)
            await self.wait()
        if self.process is not None:
            # Children that left the group (or outlived their parent) still die with it.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)
