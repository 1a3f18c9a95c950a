"""Run a coding CLI as a subprocess in its own process group, line by line, within a run's limits.

The CLI and every tool it starts (a shell, a test run, a server the model left behind) share one process
group, so stopping a run kills them all: SIGTERM to the group, SIGKILL after a grace period. That happens on
a turn, time or cost limit, when the caller sets the request's stop event, and when the caller abandons the
iteration (cancels its task or closes the generator).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import BinaryIO, Literal

from rig_providers.model import Limits, OutputLine, StopReason
from rig_providers.parsing import StreamParser
from rig_providers.redact import Redactor
from rig_providers.sandbox import group_gone

# One stream-json line holds a whole tool result (a file, a test log): far past asyncio's 64 KiB default.
LINE_LIMIT = 64 * 1024 * 1024
KILL_GRACE_S = 3.0
ORPHAN_GRACE_S = 2.0

Stream = Literal["stdout", "stderr"]
_EOF = object()
_STOP = object()


class Finished:
    """How the process ended: why, its exit code and its wall time."""

    def __init__(self, reason: StopReason, exit_code: int | None, duration_ms: int) -> None:
        self.reason = reason
        self.exit_code = exit_code
        self.duration_ms = duration_ms


async def run_lines(
    argv: Sequence[str], *, workdir: Path, env: Mapping[str, str], parser: StreamParser, limits: Limits,
    redactor: Redactor, stop: asyncio.Event | None, finished: list[Finished], stdin: BinaryIO | None = None,
) -> AsyncIterator[OutputLine]:
    """Yield the process's output lines (redacted), feeding stdout to `parser`; append how it ended to `finished`.

    `stdin` (an open file, such as the prompt) is the process's standard input; None: /dev/null.
    """
    started = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        *argv, cwd=workdir, env=dict(env), stdin=stdin if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, start_new_session=True, limit=LINE_LIMIT)
    queue: asyncio.Queue[object] = asyncio.Queue()
    assert process.stdout is not None and process.stderr is not None
    helpers = [asyncio.create_task(_pump(process.stdout, "stdout", queue)),
               asyncio.create_task(_pump(process.stderr, "stderr", queue))]
    helpers.append(asyncio.create_task(_close_orphans(process)))
    if stop is not None:
        helpers.append(asyncio.create_task(_signal_stop(stop, queue)))
    deadline = started + limits.max_seconds if limits.max_seconds is not None else None
    reason = StopReason.COMPLETED
    try:
        open_streams = 2
        while open_streams:
            item = await _next(queue, deadline)
            if item is None:
                reason = StopReason.TIME_LIMIT
                break
            if item is _STOP:
                reason = StopReason.STOPPED
                break
            if item is _EOF:
                open_streams -= 1
                continue
            assert isinstance(item, tuple)
            stream, text = item
            if stream == "stdout":
                parser.feed(text)
            yield OutputLine(redactor(text), stream)
            over = _over_limit(parser, limits)
            if over is not None:
                reason = over
                break
        exit_code = await _end(process, kill=reason is not StopReason.COMPLETED)
        finished.append(Finished(reason, exit_code, int((time.monotonic() - started) * 1000)))
    finally:
        for helper in helpers:
            helper.cancel()
        if process.returncode is None:
            # The caller went away mid-run (cancelled, or closed the iteration): leave nothing running.
            await asyncio.shield(_end(process, kill=True))


async def _pump(reader: asyncio.StreamReader, stream: Stream, queue: asyncio.Queue[object]) -> None:
    while line := await reader.readline():
        await queue.put((stream, line.decode("utf-8", "replace").rstrip("\r\n")))
    await queue.put(_EOF)


async def _close_orphans(process: asyncio.subprocess.Process) -> None:
    """Once the CLI has exited, kill what it left in its group: a leftover holding the pipes would hang us."""
    await process.wait()
    await asyncio.sleep(ORPHAN_GRACE_S)
    _signal_group(process.pid, signal.SIGKILL)


async def _signal_stop(stop: asyncio.Event, queue: asyncio.Queue[object]) -> None:
    await stop.wait()
    await queue.put(_STOP)


async def _next(queue: asyncio.Queue[object], deadline: float | None) -> object | None:
    """The next queued item, or None once the deadline has passed."""
    if deadline is None:
        return await queue.get()
    try:
        async with asyncio.timeout(max(0.0, deadline - time.monotonic())):  # not wait_for: see rig_service.waiting
            return await queue.get()
    except TimeoutError:
        return None


def _over_limit(parser: StreamParser, limits: Limits) -> StopReason | None:
    if limits.max_turns is not None and parser.turns > limits.max_turns:
        return StopReason.TURN_LIMIT
    if limits.max_cost_usd is not None:
        spent = parser.estimated_cost_usd()
        if spent is not None and spent > limits.max_cost_usd:
            return StopReason.COST_LIMIT
    return None


async def _end(process: asyncio.subprocess.Process, *, kill: bool) -> int | None:
    """Wait for the process (killing its group first if asked) and clear away whatever it left in its group."""
    if kill:
        _signal_group(process.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), timeout=KILL_GRACE_S)
        except TimeoutError:
            _signal_group(process.pid, signal.SIGKILL)
    exit_code = await process.wait()
    # A tool may have left a background process in the group (a dev server): it must not outlive the run.
    _signal_group(process.pid, signal.SIGKILL)
    await group_gone(process.pid)
    return exit_code



def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)
