"""Pull mode (docs/design.md §9): `ibuild-e` asks the conductor for work over HTTP instead of reading a stream."""

from __future__ import annotations

import asyncio
import logging

import httpx

from rig_agent.assignment import Assignment

log = logging.getLogger(__name__)


class PullSource:
    """Leases assignments from `GET /api/assignments/next`, acknowledges them at once, releases failed ones."""

    def __init__(self, http: httpx.AsyncClient, agent: str) -> None:
        self._http = http
        self.agent = agent
        self.key = f"{http.base_url}/api/assignments/next?agentId={agent}"

    async def join(self) -> None:
        """Nothing to join: the conductor keeps the queue."""

    async def take(self, block_ms: int) -> Assignment | None:
        """The next assignment, taken (acknowledged) for this agent; None after waiting `block_ms` when none."""
        response = await self._http.get("/api/assignments/next", params={"agentId": self.agent})
        if response.status_code == 204:
            await asyncio.sleep(block_ms / 1000)
            return None
        response.raise_for_status()
        body = response.json()
        assignment_id = str(body["id"])
        await self._settle(assignment_id, "ack")
        fields = {name: str(value) for name, value in body.items() if isinstance(value, str | int)}
        return Assignment(assignment_id, fields)

    async def keep_claimed(self, entry_id: str) -> None:
        """Nothing to refresh: the conductor watches the run's heartbeats and steps."""

    async def ack(self, entry_id: str) -> None:
        """Acknowledged when taken; the work item's events tell the conductor the rest."""

    async def abandon(self, entry_id: str) -> None:
        """Give the assignment back to the queue for another try."""
        await self._settle(entry_id, "release")

    async def take_wake_entry(self) -> None:
        """Pull agents have no wake list."""

    async def drop_stale_wake_entries(self) -> int:
        """Pull agents have no wake list."""
        return 0

    async def _settle(self, assignment_id: str, action: str) -> None:
        response = await self._http.post(f"/api/assignments/{assignment_id}/{action}", params={"agentId": self.agent})
        response.raise_for_status()
