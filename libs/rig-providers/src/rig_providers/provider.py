"""The one interface every coding CLI is driven through: `Provider.run(request)` yields lines, then a result."""

from __future__ import annotations

import os
import tempfile
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rig_providers.model import ProviderEvent, RunRequest
from rig_providers.parsing import StreamParser
from rig_providers.prices import PriceTable
from rig_providers.process import Finished, run_lines
from rig_providers.redact import Redactor
from rig_providers.sandbox import Jail, Sandbox

# What a CLI gets from our own environment; the rest (our service's settings, its secrets) stays with us.
INHERITED_ENV = ("PATH", "LANG", "LC_ALL", "TZ", "TMPDIR", "HOME", "USER", "SHELL", "TERM")


class ProviderConfigError(ValueError):
    """A provider cannot start as configured; the message says what to set."""


@dataclass(frozen=True, slots=True)
class Launch:
    """How to start one run: the command, its environment, the parser of its output and what it may reach.

    Besides the run's working directory, the sandbox lets it write `writable` (its config folder) and read
    `readable` (its install).
    """

    argv: Sequence[str]
    env: Mapping[str, str]
    parser: StreamParser
    writable: Sequence[Path] = field(default_factory=tuple)
    readable: Sequence[Path] = field(default_factory=tuple)


class Provider(ABC):
    """A coding CLI run as a subprocess. Subclasses say how to launch it and how to read its output.

    The prompt comes on stdin, never in the command.
    """

    name: str

    def __init__(self, prices: PriceTable | None = None, sandbox: Sandbox | None = None) -> None:
        self.prices = prices or PriceTable()
        self.sandbox = sandbox if sandbox is not None else Sandbox.detect(required=False)
        """Where the CLI runs (rig_providers.sandbox): never where it could read the agent's secrets."""

    @abstractmethod
    async def launch(self, request: RunRequest) -> Launch:
        """The command, environment and parser for `request` (may prepare files, such as a config)."""

    async def run(self, request: RunRequest) -> AsyncIterator[ProviderEvent]:
        """Run the CLI: yield each output line (secrets redacted), then one RunResult.

        A turn, time or cost limit of the request, or its stop event, kills the process group and still ends
        with a result (its `stop_reason` says why). Cancelling the caller, or closing this iterator, kills it
        too, without a result.
        """
        launch = await self.launch(request)
        redactor = Redactor(request.secrets.values())
        finished: list[Finished] = []
        argv, env = self.sandbox.wrap(launch.argv, launch.env,
                                      Jail(request.workdir, writable=launch.writable, readable=launch.readable))
        # The prompt goes in on stdin from an unnamed temporary file: any length, no pipe to keep fed, no path.
        with tempfile.TemporaryFile() as prompt:
            prompt.write(request.prompt.encode())
            prompt.seek(0)
            async for line in run_lines(argv, workdir=request.workdir, env=env, parser=launch.parser,
                                        limits=request.limits, redactor=redactor, stop=request.stop,
                                        finished=finished, stdin=prompt):
                yield line
        end = finished[0]
        yield launch.parser.result(end.reason, end.exit_code, end.duration_ms, redactor)


def base_env(request: RunRequest, **extra: str) -> dict[str, str]:
    """The CLI's environment: a few of our variables, then `extra`, the request's env and its secrets."""
    env = {name: os.environ[name] for name in INHERITED_ENV if name in os.environ}
    return env | extra | dict(request.env) | dict(request.secrets)
