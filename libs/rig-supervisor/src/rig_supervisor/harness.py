"""The cross-service test harness: the supervisor's own code starting real service processes on free ports."""

from __future__ import annotations

import signal
import socket
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType

from rig_contracts import Names
from rig_service.topology import ServiceSpec
from rig_supervisor.supervisor import Plan, Supervisor


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class System:
    """Services (and the edge, if listed) as real processes, each on a free port, for one test."""

    def __init__(self, services: Sequence[ServiceSpec], *, env: Mapping[str, str], redis_url: str, names: Names,
                 agents: Sequence[str] = (), agent_command: Sequence[str] = (), echo: bool = False) -> None:
        ports = {spec.name: free_port() for spec in services}
        self.plan = Plan(services=list(services), ports=ports, env=dict(env), redis_url=redis_url, names=names,
                         agents=agents, agent_command=agent_command, echo=echo)
        self.supervisor = Supervisor(self.plan)

    def url(self, name: str) -> str:
        """Base URL of a running service."""
        return self.plan.url(name)

    def pid(self, name: str) -> int | None:
        """Process id of a service (None while it is down)."""
        return self.supervisor.children[name].pid

    def restarts(self, name: str) -> int:
        """How often the supervisor has restarted a service."""
        return self.supervisor.children[name].restarts

    def kill(self, name: str) -> int:
        """SIGKILL a service's process group, as a crash would; return the pid killed."""
        pid = self.pid(name)
        if pid is None:
            raise RuntimeError(f"{name} is not running")
        self.supervisor.children[name].kill(signal.SIGKILL)
        return pid

    async def __aenter__(self) -> System:
        await self.supervisor.start()
        try:
            await self.supervisor.wait_healthy()
        except BaseException:
            await self.supervisor.stop()
            raise
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.supervisor.stop()


def pythonpath(*folders: Path) -> str:
    """A PYTHONPATH that lets service processes import test-only services."""
    return ":".join(str(f.resolve()) for f in folders)
