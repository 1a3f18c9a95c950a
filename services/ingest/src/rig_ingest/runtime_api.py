"""The public agent runtime's calls (docs/design.md section 9), kept apart from our own API.

Each route turns the runtime's camelCase body into our events (`runtime_mapping`, pure) and stores them through
the outbox, or, for output lines, appends them to `runlogs` and publishes them on `logs:{agent}`. The run id a
client gets back is a row of ingest's `runs`, so the later calls of that run find its agent and work item.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, TypeVar

import asyncpg
from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, TypeAdapter, ValidationError
from redis.exceptions import RedisError

from rig_bus.bus import RedisBus
from rig_ingest import runtime_lines as lines_of
from rig_ingest import runtime_mapping as m
from rig_ingest.posting import POSTED, invalid, json_object, read_json, refusal, store, store_one
from rig_ingest.reporting import Refused, check_type
from rig_ingest.trust import Gate
from rig_kit import ServiceKit

RUNS_SCOPE = "runs:write"
"""Scope of the execution-log calls (a run's steps, lines and end)."""

EVENTS_SCOPE = "events:write"
"""Scope of the runtime's events and agent log lines."""

Body = TypeVar("Body", bound=BaseModel)

_OPEN = """
INSERT INTO runs (run_id, agent, repo, issue_number, model) VALUES ($1, $2, $3, $4, $5)
RETURNING run_id::text, agent, repo, issue_number, started_at
"""
_RUN = "SELECT run_id::text, agent, repo, issue_number, started_at FROM runs WHERE run_id = $1"
_NEXT_STEP = "UPDATE runs SET steps = steps + 1 WHERE run_id = $1 RETURNING steps"
_FINISH = "UPDATE runs SET finished_at = coalesce(finished_at, now()) WHERE run_id = $1"

_LINES = TypeAdapter(list[m.RunLogLine])

LINK_LOOKBACK = 200
"""Assignment entries searched (newest first) for the work item a review run belongs to."""


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def parsed(model: type[Body], body: Any) -> Body:
    """The runtime's body as `model`, else a 422 saying what is wrong."""
    try:
        return model.model_validate(json_object(body, "the body"))
    except ValidationError as error:
        raise invalid(error) from error


def allowed(source: str, kind: str) -> None:
    """Refuse (403) what `source` may not post: a person's hook posts no runs, usage or escalations."""
    try:
        check_type(source, kind)
    except Refused as error:
        raise refusal(error) from error


def run_of(row: asyncpg.Record) -> m.Run:
    """A `runs` row as the mapping's Run."""
    return m.Run(row["run_id"], row["agent"], row["repo"], row["issue_number"], row["started_at"])


class RuntimeCalls:
    """The runtime's routes over one kit: who may speak (`gate`), where events and lines go."""

    def __init__(self, kit: ServiceKit, gate: Gate) -> None:
        self._kit = kit
        self._gate = gate
        self._shown: dict[tuple[str, str, int], int] = {}
        """(agent, repo, number) -> the minute its output last counted as progress here (saves a write per line)."""

    async def open_run(self, request: Request) -> dict[str, Any]:
        """`POST /api/execution-logs`: open a run, RUN_STARTED (and a RUN_STEP per step already listed)."""
        await self._gate.admit(request, RUNS_SCOPE)
        body = parsed(m.RunOpening, await read_json(request))
        allowed(await self._gate.speaker(request, RUNS_SCOPE, body.agent_id), "RUN_STARTED")
        linked = lines_of.linked_issue(await self._entries(body.agent_id), body.repo, body.issue_number)
        if linked is not None:  # a review run names the PR: it belongs to the work item its entry links
            body = body.model_copy(update={"issue_number": linked})
        run_id = str(uuid.uuid4())
        async with self._kit.pool.acquire() as conn, conn.transaction():
            run = run_of(await conn.fetchrow(_OPEN, run_id, body.agent_id, body.repo, body.issue_number, body.model))
            mapped = [m.run_started(body, run_id)]
            for step in body.steps or ():
                mapped.append(m.run_step(run, step, await conn.fetchval(_NEXT_STEP, run_id)))
            await store(conn, self._kit, [(x.event, x.once) for x in mapped])
        POSTED.labels("execution-logs", "stored").inc()
        return {"id": run_id}

    async def run(self, request: Request, run_id: str) -> m.Run:
        """The run `run_id` names, once the caller may speak as its agent; 404 for a run nobody opened here."""
        await self._gate.admit(request, RUNS_SCOPE)
        try:
            key = uuid.UUID(run_id)
        except ValueError as error:
            raise HTTPException(404, f"no run {run_id!r}: use the id POST /api/execution-logs answered") from error
        row = await self._kit.pool.fetchrow(_RUN, key)
        if row is None:
            raise HTTPException(404, f"no run {run_id}: use the id POST /api/execution-logs answered")
        run = run_of(row)
        allowed(await self._gate.speaker(request, RUNS_SCOPE, run.agent), "RUN_STEP")
        return run

    async def add_step(self, request: Request, run_id: str) -> dict[str, Any]:
        """`POST /api/execution-logs/{id}/steps`: RUN_STEP."""
        run = await self.run(request, run_id)
        step = parsed(m.RuntimeStep, await read_json(request))
        async with self._kit.pool.acquire() as conn, conn.transaction():
            mapped = m.run_step(run, step, await conn.fetchval(_NEXT_STEP, run.run_id))
            (stored,) = await store(conn, self._kit, [(mapped.event, mapped.once)])
        POSTED.labels("execution-logs/steps", "stored").inc()
        return {"id": stored.event_id}

    async def complete(self, request: Request, run_id: str) -> dict[str, Any]:
        """`POST /api/execution-logs/{id}/complete`: RUN_FINISHED, once per run (a repeat answers the first)."""
        run = await self.run(request, run_id)
        mapped = m.run_finished(run, parsed(m.RunCompletion, await read_json(request)), datetime.now(UTC))
        async with self._kit.pool.acquire() as conn, conn.transaction():
            (stored,) = await store(conn, self._kit, [(mapped.event, mapped.once)])
            await conn.execute(_FINISH, uuid.UUID(run.run_id))
        POSTED.labels("execution-logs/complete", "duplicate" if stored.duplicate else "stored").inc()
        return {"id": stored.event_id, "duplicate": stored.duplicate}

    async def run_lines(self, request: Request, run_id: str) -> dict[str, Any]:
        """`POST /api/execution-logs/{id}/logs`: the lines onto `runlogs` and `logs:{agent}`."""
        run = await self.run(request, run_id)
        try:
            lines = _LINES.validate_python(await read_json(request))
        except ValidationError as error:
            raise invalid(error) from error
        # The runtime sends each line here and to /api/agent-logs: the run keeps it, the live channel gets it once.
        return await self._send(run.agent, lines_of.run_log_entries(run, lines), "execution-logs/logs", live=False)

    async def agent_lines(self, request: Request) -> dict[str, Any]:
        """`POST /api/agent-logs`: the lines onto `runlogs` and `logs:{agentId}`."""
        await self._gate.admit(request, EVENTS_SCOPE)
        body = parsed(m.AgentLogs, await read_json(request))
        source = await self._gate.speaker(request, EVENTS_SCOPE, body.agent_id)
        if source.startswith("agent:"):  # a person's lines are a transcript, not an agent's work on an item
            await self._output_progress(body)
        return await self._send(body.agent_id, lines_of.agent_log_entries(body), "agent-logs")

    async def _output_progress(self, body: m.AgentLogs) -> None:
        """Lines about a work item show the agent works on it: one heartbeat per agent, item and minute."""
        now = datetime.now(UTC)
        minute = int(now.timestamp()) // lines_of.OUTPUT_PROGRESS_EVERY_S
        due = [(repo, number) for repo, number in lines_of.output_items(body)
               if self._shown.get((body.agent_id, repo, number)) != minute]
        if not due:
            return
        entries = await self._entries(body.agent_id)
        mapped = [lines_of.output_progress(body.agent_id, repo, lines_of.linked_issue(entries, repo, number) or number,
                                           now) for repo, number in due]
        async with self._kit.pool.acquire() as conn, conn.transaction():
            await store(conn, self._kit, [(x.event, x.once) for x in mapped])
        if len(self._shown) > 10_000:
            self._shown.clear()
        self._shown.update({(body.agent_id, repo, number): minute for repo, number in due})

    async def event(self, request: Request, raw: dict[str, Any]) -> dict[str, Any]:
        """`POST /api/events` in the runtime's form (the body has `agentId`)."""
        self._gate.screen(request)
        body = parsed(m.RuntimeEvent, raw)
        source = await self._gate.speaker(request, EVENTS_SCOPE, body.pool)
        try:
            allowed(source, m.our_type(body))
            mapped = m.runtime_event(body, source)
        except ValueError as error:
            raise invalid(error) from error
        stored = await store_one(self._kit, mapped.event, once=mapped.once)
        POSTED.labels("events/runtime", "duplicate" if stored.duplicate else "stored").inc()
        return {"id": stored.event_id, "duplicate": stored.duplicate}

    async def _entries(self, agent: str) -> list[dict[str, str]]:
        """The agent's latest assignment entries, newest first ([] without Valkey or when it does not answer)."""
        bus = self._kit.bus
        if not isinstance(bus, RedisBus):
            return []
        try:
            found: Any = await bus.client.xrevrange(self._kit.names.assignments(agent), count=LINK_LOOKBACK)
        except RedisError:
            return []  # the run then stays under the subject the runtime named: a display matter, not a loss
        return [{_text(k): _text(v) for k, v in fields.items()} for _id, fields in found]

    async def _send(self, agent: str, entries: list[dict[str, str]], route: str, *, live: bool = True
                    ) -> dict[str, Any]:
        # Output lines are not events: a lost line costs a line of a transcript, so they skip the outbox.
        bus = self._kit.bus
        if not isinstance(bus, RedisBus):
            raise HTTPException(503, "output lines need the Valkey bus; set RIG_REDIS_URL to a redis:// URL")
        names = self._kit.names
        try:
            async with bus.client.pipeline(transaction=False) as pipe:
                for entry in entries:
                    pipe.xadd(names.runlogs, dict(entry))  # type: ignore[arg-type]
                    if live:
                        pipe.publish(names.logs(agent), lines_of.channel_message(entry))
                await pipe.execute()
        except RedisError as error:
            POSTED.labels(route, "unavailable").inc()
            raise HTTPException(503, f"Valkey did not take the lines ({type(error).__name__}): send them again",
                                headers={"Retry-After": "1"}) from error
        POSTED.labels(route, "stored").inc()
        return {"lines": len(entries)}


def runtime_router(calls: RuntimeCalls) -> APIRouter:
    """The runtime's routes besides `POST /api/events` (which `events_api` shares with our own form)."""
    router = APIRouter(tags=["public agent runtime"])
    router.add_api_route("/api/execution-logs", calls.open_run, methods=["POST"], status_code=201,
                         summary="Open a run (RUN_STARTED); answers {id}")
    router.add_api_route("/api/execution-logs/{run_id}/steps", calls.add_step, methods=["POST"],
                         summary="A step of a run (RUN_STEP)")
    router.add_api_route("/api/execution-logs/{run_id}/logs", calls.run_lines, methods=["POST"],
                         summary="Output lines of a run (runlogs, logs:{agent})")
    router.add_api_route("/api/execution-logs/{run_id}/complete", calls.complete, methods=["POST"],
                         summary="A run ended (RUN_FINISHED)")
    router.add_api_route("/api/agent-logs", calls.agent_lines, methods=["POST"],
                         summary="Output lines of an agent (runlogs, logs:{agentId})")
    return router
