"""One child process: started in its own process group, its output prefixed, stopped with everything it started."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import signal
import sys
import time
from collections.abc import Callable, Mapping, Sequence

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1


def dying_with_this_process(sig: signal.Signals = signal.SIGTERM) -> Callable[[], None] | None:
    """A `preexec_fn` after which the child gets `sig` when this process ends, even by SIGKILL (Linux; else None).

    Children run in sessions of their own (so that stopping one stops all it started), so nothing else would reach
    them: a supervisor or test run killed with SIGKILL used to leave its agents running for good. The signal comes
    when the thread that started the child ends; here that is the event loop's, which lives as long as the process.
    Safe as a `preexec_fn` in a process with threads: between fork and exec it only makes system calls (prctl,
    getppid, kill), so it needs no lock another thread might have held at the fork.
    """
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up before the fork: the child only calls it
    parent = os.getpid()

    def arm() -> None:
        prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
        if os.getppid() != parent:  # the parent ended between fork and prctl: nothing will send the signal
            os.kill(os.getpid(), sig)

    return arm


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
        """Start the process in a new session, so stopping it also stops whatever it started; it dies with us."""
        self.process = await asyncio.create_subprocess_exec(
            *self.argv, env=self.env, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT, start_new_session=True, preexec_fn=dying_with_this_process())
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
            # Not `suppress(CancelledError)` around `await self._pump`: that swallowed a cancellation of the caller.
            await asyncio.wait([self._pump])
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
