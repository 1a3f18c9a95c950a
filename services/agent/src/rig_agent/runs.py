"""One run's record (docs/design.md §2, 3): RUN_STARTED / RUN_STEP / RUN_FINISHED, and every output line live."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from rig_agent.assignment import Assignment
from rig_agent.conductor import Conductor
from rig_contracts import Names
from rig_contracts.payloads import Usage

log = logging.getLogger(__name__)

RUNLOGS_MAXLEN = 100_000
"""`runlogs` is kept to about this many lines; the costs service stores them for good."""


class RunRecord:
    """Reports one run of an agent on one assignment: its steps through the conductor, its lines through Valkey."""

    def __init__(self, conductor: Conductor, client: aioredis.Redis, names: Names, agent: str,
                 assignment: Assignment, redact: Callable[[str], str]) -> None:
        self.run_id = str(uuid.uuid4())
        self._conductor = conductor
        self._client = client
        self._names = names
        self._agent = agent
        self.assignment = assignment
        self._steps = 0
        self._redact = redact

    def _item(self) -> dict[str, Any]:
        return {"repo": self.assignment.repo, "number": self.assignment.number}

    async def reserve(self) -> Decimal | None:
        """Reserve this run's allowance before it starts (BudgetRefusedError when a budget cannot take it)."""
        return await self._conductor.reserve(self.run_id, self.assignment.repo, self.assignment.number)

    async def started(self, provider: str, model: str | None) -> None:
        """RUN_STARTED."""
        data = {**self._item(), "run_id": self.run_id, "agent": self._agent, "provider": provider,
                "model": model or ""}
        await self._conductor.event("RUN_STARTED", self.assignment.subject, data, key=f"run:{self.run_id}:started")

    async def step(self, step: str, status: str, detail: str = "", *, turns: int = 0, usage: Usage | None = None,
                   cost_usd: float | None = None) -> None:
        """RUN_STEP for one phase (clone, tools, provider, build, test, push, review …)."""
        self._steps += 1
        data = {"run_id": self.run_id, "step": step, "status": status, "detail": self._redact(detail[-2000:]),
                "turns": turns,
                "usage": (usage or Usage()).model_dump(), "cost_usd": cost_usd}
        await self._conductor.event("RUN_STEP", self.assignment.subject, data,
                                    key=f"run:{self.run_id}:step:{self._steps}")

    async def finished(self, status: str, **totals: Any) -> None:
        """RUN_FINISHED with this run's own usage and costs."""
        data = {**self._item(), "run_id": self.run_id, "status": status, **totals}
        await self._conductor.event("RUN_FINISHED", self.assignment.subject, data,
                                    key=f"run:{self.run_id}:finished")

    async def line(self, message: str, level: str = "info") -> None:
        """One output line, secrets redacted, onto `runlogs` and `logs:{agent}`; a Valkey hiccup loses only it."""
        message = self._redact(message)
        entry: dict[Any, Any] = {
            "agentId": self._agent, "runId": self.run_id, "ts": datetime.now(UTC).isoformat(), "level": level,
            "message": message, "repo": self.assignment.repo, "issueNumber": str(self.assignment.number or "")}
        try:
            async with self._client.pipeline(transaction=False) as pipe:
                pipe.xadd(self._names.runlogs, entry, maxlen=RUNLOGS_MAXLEN, approximate=True)
                pipe.publish(self._names.logs(self._agent), json.dumps(entry, ensure_ascii=False))
                await pipe.execute()
        except (RedisError, OSError) as error:
            log.warning("output line of run %s not published: %s", self.run_id, error)
