"""AGENT_HEARTBEAT (docs/design.md section 2): the agent says regularly that it is online, with what, doing what."""

from __future__ import annotations

import asyncio
import logging

from rig_agent.conductor import Conductor, ConductorError
from rig_service.waiting import wait_set

log = logging.getLogger(__name__)


class Heartbeat:
    """The agent's presence: its current task, posted as AGENT_HEARTBEAT at each beat and whenever it changes."""

    def __init__(self, conductor: Conductor, agent: str, provider: str, period_s: float) -> None:
        self._conductor = conductor
        self.agent = agent
        self.provider = provider
        self._period_s = period_s
        self._task: str | None = None
        self._changed = asyncio.Event()

    @property
    def current_task(self) -> str | None:
        """The subject being worked on, or None when idle."""
        return self._task

    @current_task.setter
    def current_task(self, subject: str | None) -> None:
        self._task = subject
        self._changed.set()

    async def beat(self, status: str | None = None) -> None:
        """Post one heartbeat; a conductor that cannot take it is logged, never fatal to the work."""
        status = status or ("busy" if self._task else "idle")
        data = {"agent": self.agent, "status": status, "provider": self.provider, "current_task": self._task}
        try:
            await self._conductor.event("AGENT_HEARTBEAT", self._task or f"agent:{self.agent}", data)
        except ConductorError as error:
            log.warning("heartbeat not recorded: %s", error)

    async def run(self) -> None:
        """Beat every period, and at once when the current task changes."""
        while True:
            self._changed.clear()
            await self.beat()
            await wait_set(self._changed, self._period_s)
