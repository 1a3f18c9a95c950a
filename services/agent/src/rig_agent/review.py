"""Review-E (DESIGN.md sections 2, 8): review a PR head with the provider, submit the verdict, ask for the merge."""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

from rig_agent.assignment import Assignment
from rig_agent.conductor import Conductor
from rig_agent.prompts import Verdict, VerdictError, parse_verdict, review_prompt
from rig_agent.providing import ProviderFailedError, ProviderSetup, Totals, run_provider
from rig_agent.runs import RunRecord
from rig_contracts.catalogue import ReviewAssignedEvent
from rig_github import GitHubClient, ReviewEvent

log = logging.getLogger(__name__)

DIFF_LIMIT = 200_000
"""Characters of diff put in a prompt; a larger PR is reviewed from its first part, and the review says so."""


@dataclass(frozen=True, slots=True)
class ReviewContext:
    """What every Review-E run shares."""

    agent: str
    github: GitHubClient
    conductor: Conductor
    setup: ProviderSetup
    work_root: Path


@dataclass(frozen=True, slots=True)
class ReviewOutcome:
    """What one review run did: the verdict, or why it reviewed nothing."""

    verdict: Verdict | None
    skipped: str = ""


class ReviewRun:
    """One Review-E run on one REVIEW_ASSIGNED."""

    def __init__(self, ctx: ReviewContext, record: RunRecord, assignment: Assignment) -> None:
        self.ctx = ctx
        self.record = record
        self.a = assignment
        self.totals = Totals()
        event = assignment.event
        if not isinstance(event, ReviewAssignedEvent):
            raise TypeError(f"review-e got {event.type if event else 'an entry without an event'}, "
                             "not REVIEW_ASSIGNED")
        self.repo = event.data.repo
        self.pr_number = event.data.pr_number
        self.head_sha = event.data.head_sha
        self.round = event.data.round

    async def execute(self) -> ReviewOutcome:
        """Review the assigned head; skip when the PR moved on (the router assigns the new head)."""
        pull = await self.ctx.github.get_pull(self.repo, self.pr_number)
        if pull.state != "open" or pull.head_sha != self.head_sha:
            reason = "closed" if pull.state != "open" else f"head moved to {pull.head_sha}"
            await self.record.step("review", "skipped", reason)
            return ReviewOutcome(None, reason)
        files = await self.ctx.github.pull_files(self.repo, self.pr_number)
        diff = "\n".join(f"--- {f.filename} ({f.status})\n{f.patch}" for f in files)
        workdir = self.ctx.work_root / "reviews" / f"{self.repo.replace('/', '__')}-{self.pr_number}"
        shutil.rmtree(workdir, ignore_errors=True)
        workdir.mkdir(parents=True)
        prompt = review_prompt(self.repo, self.pr_number, pull.title, pull.body, diff[:DIFF_LIMIT])
        provider = self.ctx.setup.provider_for("review", self.round)
        result = await run_provider(self.ctx.setup, provider, self.record, self.totals, prompt, workdir, None)
        if result.is_error:
            raise ProviderFailedError(f"the review run failed ({result.stop_reason}): {result.final_text[-300:]}")
        try:
            verdict = parse_verdict(result.final_text)
        except VerdictError as error:
            await self.record.step("verdict", "failed", str(error))
            raise
        event: ReviewEvent = "APPROVE" if verdict.approved else "REQUEST_CHANGES"
        review = await self.ctx.github.create_review(self.repo, self.pr_number, self.head_sha, event,
                                                     verdict.review_body())
        await self.record.step("review", "succeeded", f"{event} as review {review.id} at {self.head_sha}")
        if verdict.approved:
            await self.ctx.conductor.request_merge(self.repo, self.pr_number, self.head_sha)
            await self.record.step("merge_request", "succeeded", f"{self.repo}#{self.pr_number} at {self.head_sha}")
        return ReviewOutcome(verdict)

