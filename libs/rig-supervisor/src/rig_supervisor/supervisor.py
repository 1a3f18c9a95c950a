"""Start every service and the edge as processes, restart the ones that die (with backoff), wake agents."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import httpx
import redis.asyncio as aioredis

from rig_contracts import Names
from rig_service.topology import SERVICE_PREFIX, ServiceSpec
from rig_service.waiting import stop_task
from rig_supervisor.backoff import Backoff
from rig_supervisor.credentials import agent_env, service_env
from rig_supervisor.local import sandbox_credentials
from rig_supervisor.process import Child
from rig_supervisor.waker import AgentWaker

log = logging.getLogger(__name__)


@dataclass
class Plan:
    """What to run: services (the edge last), their ports, the environment, and the agents to wake."""

    services: list[ServiceSpec]
    ports: dict[str, int]
    env: dict[str, str]
    redis_url: str
    names: Names
    agents: Sequence[str] = ()
    agent_command: Sequence[str] = ()
    agent_ports: dict[str, int] = field(default_factory=dict)
    poll_s: float = 0.05
    echo: bool = True
    agent_env: dict[str, dict[str, str]] = field(default_factory=dict)
    """Per agent pool, what its processes get besides `env` (its token, its Valkey user).

    `env` holds every secret of the system; each child gets only its own (rig_supervisor.credentials).
    """
    github_from_sandbox: bool = False
    """Start the sandbox first and point every other process at its Apps (no GitHub credentials given)."""
    edge_secret: str = field(default_factory=lambda: secrets.token_hex(32))
    """RIG_EDGE_SECRET of this run (unless `env` names one): the edge signs client addresses with it and the
    services check them (rig_service.forwarding). Services and the edge get it, agents never do."""

    def url(self, name: str) -> str:
        """Where a service listens."""
        return f"http://127.0.0.1:{self.ports[name]}"

    def health_url(self, name: str) -> str:
        """A service's `/healthz` (the edge answers its own under /services/edge/)."""
        return f"{self.url(name)}{SERVICE_PREFIX}edge/healthz" if name == "edge" else f"{self.url(name)}/healthz"


class Supervisor:
    """Runs a plan until stopped."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.children: dict[str, Child] = {}
        self.waker: AgentWaker | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False
        self._redis: aioredis.Redis | None = None

    def _child(self, spec: ServiceSpec) -> Child:
        # only the credentials this service uses (the edge secret is one of them)
        env = service_env(spec.name, {"RIG_EDGE_SECRET": self.plan.edge_secret, **self.plan.env})
        if spec.name == "edge":
            env["RIG_UPSTREAMS"] = json.dumps({s.name: self.plan.url(s.name) for s in self.plan.services
                                               if s.name != "edge"})
        argv = [sys.executable, "-m", "rig_service.serve", spec.name, "--port", str(self.plan.ports[spec.name])]
        return Child(spec.name, argv, env, echo=self.plan.echo)

    def _agent_child(self, agent: str) -> Child:
        port = str(self.plan.agent_ports.get(agent, 0))
        argv = [part.replace("{agent}", agent).replace("{port}", port) for part in self.plan.agent_command]
        if argv and argv[0] == "python":
            argv[0] = sys.executable
        # its own credentials only, never the edge secret
        env = agent_env(agent, self.plan.env, self.plan.agent_env.get(agent, {}))
        return Child(agent, argv, env, echo=self.plan.echo)

    async def start(self) -> None:
        """Start every service (the sandbox first when it stands in for GitHub), then the agent waker."""
        services = list(self.plan.services)
        if self.plan.github_from_sandbox and "sandbox" in self.plan.ports:
            sandbox = next(spec for spec in services if spec.name == "sandbox")
            services.remove(sandbox)
            await self._start_child(sandbox)
            await self.wait_healthy(names={"sandbox"})
            self.plan.env |= await sandbox_credentials(self.plan.url("sandbox"))
        for spec in services:
            await self._start_child(spec)
        if self.plan.agents and self.plan.agent_command:
            self._redis = aioredis.Redis.from_url(self.plan.redis_url)
            self.waker = AgentWaker(self._redis, self.plan.names, self.plan.agents, self._agent_child,
                                    self.plan.poll_s)
            self._tasks.append(asyncio.create_task(self.waker.run(), name="agent waker"))

    async def _start_child(self, spec: ServiceSpec) -> None:
        child = self._child(spec)
        await child.start()
        self.children[spec.name] = child
        self._tasks.append(asyncio.create_task(self._keep_running(spec, child), name=f"keep {spec.name}"))

    async def _keep_running(self, spec: ServiceSpec, child: Child) -> None:
        backoff = Backoff()
        while True:
            status = await child.wait()
            if self._stopping:
                return
            delay = backoff.next_delay(time.monotonic() - child.started_at)
            print(f"supervisor: {spec.name} exited with status {status}; restarting in {delay:.1f}s "
                  f"(restart {child.restarts + 1})", flush=True)
            await asyncio.sleep(delay)
            if self._stopping:
                return
            await child.start()
            child.restarts += 1  # counted once the new process exists, so a reader never sees a count without it

    async def wait_healthy(self, timeout_s: float = 60.0, names: set[str] | None = None) -> None:
        """Wait until every service (or those `names`) answers `/healthz`, or fail naming the ones that do not."""
        deadline = time.monotonic() + timeout_s
        pending = set(names) if names is not None else {spec.name for spec in self.plan.services}
        async with httpx.AsyncClient(timeout=1.0) as client:
            while pending:
                for name in sorted(pending):
                    with contextlib.suppress(httpx.HTTPError):
                        if (await client.get(self.plan.health_url(name))).status_code == 200:
                            pending.discard(name)
                if pending and time.monotonic() > deadline:
                    raise TimeoutError(f"not healthy after {timeout_s:.0f}s: {', '.join(sorted(pending))}; "
                                       "their output above says why")
                await asyncio.sleep(0.1)

    async def stop(self) -> None:
        """Stop the waker, the agents, and every service (the edge first)."""
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        if self.waker is not None:
            await self.waker.stop()
        edge = self.children.get("edge")
        if edge is not None:
            await edge.stop()
        await asyncio.gather(*(c.stop() for c in self.children.values()))
        # Cancelled again if need be (a cancellation can be lost in a Valkey command), and never by swallowing
        # CancelledError, which would swallow a cancellation of this stop as well.
        for task in self._tasks:
            await stop_task(task, again_after_s=1.0)
        if self._redis is not None:
            await self._redis.aclose()
