"""Leases (issue 6): an assignment nobody started is signalled again; one without progress is reassigned.

A waiting assignment of a push pool whose last signal is older than the start lease gets one more wake entry
on `signal:{agent}` (pushed before the row is marked, so a crash can only add a spare wake, never lose one).
A dev assignment whose last progress (WORK_STARTED, a heartbeat, run steps, the heartbeats ingest derives from
output lines) is older than the progress lease is replaced by a new one, attempt + 1, published through the outbox
like any decision; once the item has had `router_max_attempts` assignments it escalates to people instead.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import timedelta

import asyncpg
from prometheus_client import Counter

from rig_db import outbox
from rig_kit import ServiceKit
from rig_router import assignments, projection, wakes
from rig_router.comments import CommentPoster, insert_comments
from rig_router.emit import PULL_AGENTS, Effects, Emitter
from rig_router.projection import HistoryRow
from rig_router.queueing import Limits, admit
from rig_router.settings import RouterSettings
from rig_workflow import AssignDev, Command, Escalate, State
from rig_workflow.domain_model import DEVELOPING

log = logging.getLogger(__name__)

LEASES = Counter("rig_router_leases_expired_total", "Assignment leases that ran out", ["action"])


class Leases:
    """The lease sweep, run as one of the router's jobs."""

    def __init__(self, kit: ServiceKit, settings: RouterSettings, emitter: Emitter, poster: CommentPoster) -> None:
        self._kit = kit
        self._settings = settings
        self._emitter = emitter
        self._poster = poster

    async def run(self) -> None:
        """Sweep every `router_lease_sweep_s` for the service's lifetime."""
        while True:
            await asyncio.sleep(self._settings.router_lease_sweep_s)
            try:
                await self.sweep()
            except (OSError, asyncpg.PostgresError) as error:
                log.warning("lease sweep failed (%s); trying again in %.0fs", error,
                            self._settings.router_lease_sweep_s)

    async def sweep(self) -> tuple[int, int]:
        """One pass: (assignments signalled again, assignments reassigned or escalated)."""
        return await self.signal_again(), await self.reassign()

    async def signal_again(self) -> int:
        """Wake the pool again for waiting assignments nobody started within the start lease, never piling wakes.

        An assignment whose stream entry the `agents` group already delivered was taken (the public runtime sends
        no WORK_STARTED): it is marked running, not signalled. The others get a wake entry only while `signal:
        {agent}` holds fewer entries than the pool has waiting assignments: at most one outstanding per assignment.
        """
        lease = timedelta(seconds=self._settings.router_start_lease_s)
        pushed = 0
        async with self._kit.pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT id::text, agent FROM assignments WHERE status = 'waiting' AND NOT agent = ANY($2::text[]) "
                "AND coalesce(signalled_at, created_at) < now() - $1::interval ORDER BY created_at LIMIT 500",
                lease, list(PULL_AGENTS))
            for agent in sorted({row["agent"] for row in rows}):
                stale = [row["id"] for row in rows if row["agent"] == agent]
                taken = await wakes.delivered(self._kit, agent, stale)
                await assignments.taken(conn, taken)
                waiting = await conn.fetchval("SELECT count(*) FROM assignments WHERE agent = $1 AND "
                                              "status = 'waiting'", agent)
                room = waiting - await wakes.outstanding(self._kit, agent)
                for assignment_id in [i for i in stale if i not in taken][:max(0, room)]:
                    await wakes.push(self._kit, agent, assignment_id)
                    await conn.execute("UPDATE assignments SET signalled_at = now(), signals = signals + 1 "
                                       "WHERE id = $1", assignment_id)
                    LEASES.labels("signalled").inc()
                    pushed += 1
        return pushed

    async def reassign(self) -> int:
        """Replace (or escalate) each dev assignment without progress within the progress lease."""
        lease = timedelta(seconds=self._settings.router_progress_lease_s)
        done = 0
        async with self._kit.pool.acquire() as conn, conn.transaction():
            stale = await conn.fetch(
                "SELECT id::text, subject, agent FROM assignments WHERE kind = 'dev' AND status = ANY($2::text[]) "
                "AND coalesce(progress_at, started_at, created_at) < now() - $1::interval ORDER BY created_at "
                "LIMIT 100 FOR UPDATE SKIP LOCKED", lease, list(assignments.DISPATCHED))
            effects, history, rows, new = Effects(), [], [], []
            for found in stale:
                await conn.execute("UPDATE assignments SET status = 'expired', closed_at = now() WHERE id = $1::uuid",
                                   found["id"])
                row = await projection.load(conn, found["subject"])
                if row is None or row.item.state not in DEVELOPING or row.item.agent != found["agent"]:
                    continue
                command = self._next(row.item.attempt, found["id"], row.item.agent, row.item.stack, row.item.branch)
                state = State.ESCALATED if isinstance(command, Escalate) else row.item.state
                attempt = command.attempt if isinstance(command, AssignDev) else row.item.attempt
                before = row.item.state
                row.item = replace(row.item, state=state, attempt=attempt, handled=row.item.handled | {command.key})
                one = Effects()
                words = self._emitter.effects(row, None, (command,), one)
                await assignments.close_open(conn, one.cancelled)
                await assignments.insert(conn, one.assignments)
                new += one.assignments
                effects.outbox += one.outbox
                effects.comments += one.comments
                rows.append(row)
                history.append(HistoryRow(row.item.subject, found["id"], "LEASE_EXPIRED", command.key, "applied",
                                          before.value, state.value, None, tuple(words)))
                LEASES.labels("escalated" if isinstance(command, Escalate) else "reassigned").inc()
                done += 1
            await projection.save(conn, rows)
            await projection.record(conn, history)
            await insert_comments(conn, effects.comments)
            await admit(conn, Limits(self._settings.router_pool_limits, self._settings.router_repo_limit), new,
                        effects.outbox)
            await outbox.add(conn, effects.outbox)
        if effects.comments:
            self._poster.kick()
        return done

    def _next(self, attempt: int, assignment_id: str, agent: str | None, stack: str | None, branch: str) -> Command:
        key = f"lease:{assignment_id}"
        if attempt >= self._settings.router_max_attempts:
            return Escalate(f"{key}:escalate", f"no progress on assignment {assignment_id} within "
                            f"{self._settings.router_progress_lease_s:.0f}s after {attempt} attempts")
        return AssignDev(f"{key}:reassign", agent or f"dev-e-{stack or 'base'}", stack or "base", attempt + 1,
                         "lease expired", branch)
