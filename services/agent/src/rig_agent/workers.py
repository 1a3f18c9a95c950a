"""The Worker each pool runs (rig_agent.loop): one run record around Dev-E's or Review-E's work, and giving up."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import redis.asyncio as aioredis

from rig_agent.assignment import Assignment
from rig_agent.conductor import BudgetRefusedError, Conductor
from rig_agent.dev import DevContext, DevRun, EscalationError
from rig_agent.providing import AllowanceSpentError, Totals
from rig_agent.review import ReviewContext, ReviewRun
from rig_agent.runs import RunRecord
from rig_contracts import Names


@dataclass(frozen=True, slots=True)
class Reporting:
    """Where runs are reported: the conductor's API and the pool's Valkey keys."""

    agent: str
    conductor: Conductor
    client: aioredis.Redis
    names: Names
    redact: Callable[[str], str]
    """Takes the agent's token and model keys out of anything reported."""

    def record(self, assignment: Assignment) -> RunRecord:
        """A new run's record."""
        return RunRecord(self.conductor, self.client, self.names, self.agent, assignment, self.redact)

    async def admitted(self, record: RunRecord, totals: Totals) -> bool:
        """Reserve the run's allowance before it starts; a refusal hands the item to people, naming the budget."""
        try:
            totals.allowance_usd = await record.reserve()
        except BudgetRefusedError as refused:
            await self.escalate(record.assignment, f"budget: no run started: {refused}")
            return False
        return True

    async def escalate(self, assignment: Assignment, reason: str) -> None:
        """ISSUE_ESCALATED for the item, keyed so that a retried report is one event."""
        data = {"repo": assignment.repo, "number": assignment.number, "reason": self.redact(reason[:2000])}
        await self.conductor.event("ISSUE_ESCALATED", assignment.subject, data,
                                   key=f"escalated:{assignment.subject}:{assignment.entry_id}")


class DevWorker:
    """Dev-E: WORK_STARTED, one run (RUN_STARTED … RUN_FINISHED), a PR or an escalation."""

    def __init__(self, reporting: Reporting, ctx: DevContext) -> None:
        self.reporting = reporting
        self.ctx = ctx

    async def handle(self, assignment: Assignment) -> None:
        """Develop the item; an escalation is reported and ends the assignment, any other error retries it."""
        record = self.reporting.record(assignment)
        run = DevRun(self.ctx, record, assignment)
        if not await self.reporting.admitted(record, run.totals):
            return
        started = time.monotonic()
        data = {"repo": assignment.repo, "number": assignment.number, "agent": self.ctx.agent, "branch": run.branch,
                "assignment_id": assignment.field("assignmentId") or assignment.entry_id}
        await self.ctx.conductor.event("WORK_STARTED", assignment.subject, data,
                                       key=f"work-started:{assignment.subject}:{assignment.entry_id}")
        await record.started(self.ctx.setup.provider.name, self.ctx.setup.model)
        try:
            pr_number = await run.execute()
        except EscalationError as error:
            await self._finish(record, run, "escalated", started)
            await self.reporting.escalate(assignment, str(error))
            return
        except AllowanceSpentError as error:
            await self._finish(record, run, "stopped", started)
            await self.reporting.escalate(assignment, f"budget: {error}")
            return
        except BaseException:
            await self._finish(record, run, "failed", started)
            raise
        await self._finish(record, run, "succeeded", started, pr_number)

    async def _finish(self, record: RunRecord, run: DevRun, status: str, started: float,
                      pr_number: int | None = None) -> None:
        await record.finished(status, duration_ms=int((time.monotonic() - started) * 1000), pr_number=pr_number,
                              **run.totals.as_data())

    async def give_up(self, assignment: Assignment, reason: str) -> None:
        """Hand the item to people."""
        await self.reporting.escalate(assignment, f"{self.ctx.agent} could not finish the work: {reason}")


class ReviewWorker:
    """Review-E: one run per assigned head; a verdict on GitHub, and a merge request on approval."""

    def __init__(self, reporting: Reporting, ctx: ReviewContext) -> None:
        self.reporting = reporting
        self.ctx = ctx

    async def handle(self, assignment: Assignment) -> None:
        """Review; a run without a usable verdict fails (and is retried), never guessed."""
        record = self.reporting.record(assignment)
        run = ReviewRun(self.ctx, record, assignment)
        if not await self.reporting.admitted(record, run.totals):
            return
        started = time.monotonic()
        await record.started(self.ctx.setup.provider.name, self.ctx.setup.model)
        status = "failed"
        try:
            outcome = await run.execute()  # a skipped review (the PR moved on) succeeds: its step says why
            status = "succeeded"
            if outcome.escalation:
                status = "escalated"
                await self.reporting.escalate(assignment, outcome.escalation)
        except AllowanceSpentError as error:
            status = "stopped"
            await self.reporting.escalate(assignment, f"budget: {error}")
        finally:
            await record.finished(status, duration_ms=int((time.monotonic() - started) * 1000),
                                  pr_number=run.pr_number, **run.totals.as_data())

    async def give_up(self, assignment: Assignment, reason: str) -> None:
        """Hand the PR to people."""
        await self.reporting.escalate(assignment, f"review-e could not review: {reason}")
