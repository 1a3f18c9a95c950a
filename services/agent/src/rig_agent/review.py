"""Review-E (docs/design.md §2, 8): review a PR head with the provider, submit the verdict, ask for the merge."""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

from rig_agent.assignment import Assignment
from rig_agent.conductor import Conductor
from rig_agent.diffview import DiffView, diff_view
from rig_agent.prompts import Verdict, VerdictError, parse_verdict, review_prompt
from rig_agent.providing import ProviderFailedError, ProviderSetup, Totals, run_provider
from rig_agent.runs import RunRecord
from rig_contracts.catalogue import ReviewAssignedEvent
from rig_github import GitHubClient, ReviewEvent

log = logging.getLogger(__name__)

DIFF_LIMIT = 400_000
"""Characters of diff put in a prompt (about 115k tokens); files beyond it are named as unseen, never approved."""


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
    escalation: str = ""
    """Why people must look (the model approved a change it could not wholly see); empty: nothing to hand on."""


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
        """Review the diff `base...head` at the assigned head; skip when the PR moved on (the router assigns it)."""
        pull = await self.ctx.github.get_pull(self.repo, self.pr_number)
        if pull.state != "open" or pull.head_sha != self.head_sha:
            reason = "closed" if pull.state != "open" else f"head moved to {pull.head_sha}"
            await self.record.step("review", "skipped", reason)
            return ReviewOutcome(None, reason)
        # The change at exactly the assigned SHA, not the PR's files as they are when read.
        comparison = await self.ctx.github.compare(self.repo, pull.base_ref, self.head_sha)
        view = diff_view(comparison.files, DIFF_LIMIT)
        if not view.complete:
            await self.record.step("diff", "succeeded", view.notes())
        workdir = self.ctx.work_root / "reviews" / f"{self.repo.replace('/', '__')}-{self.pr_number}"
        shutil.rmtree(workdir, ignore_errors=True)
        workdir.mkdir(parents=True)
        prompt = review_prompt(self.repo, self.pr_number, pull.title, pull.body, view.text, missing=view.notes())
        provider = self.ctx.setup.provider_for("review", self.round)
        result = await run_provider(self.ctx.setup, provider, self.record, self.totals, prompt, workdir, None,
                                    read_only=True)
        if result.is_error:
            raise ProviderFailedError(f"the review run failed ({result.stop_reason}): {result.final_text[-300:]}")
        try:
            verdict = parse_verdict(result.final_text)
        except VerdictError as error:
            await self.record.step("verdict", "failed", str(error))
            raise
        # A push while the model read the diff: this verdict is about a head that is no longer the PR's.
        now = await self.ctx.github.get_pull(self.repo, self.pr_number)
        if now.head_sha != self.head_sha:
            reason = f"head moved to {now.head_sha} while {self.head_sha} was reviewed: no verdict submitted"
            await self.record.step("review", "skipped", reason)
            return ReviewOutcome(None, reason)
        if verdict.approved and not view.complete:
            return await self._unseen(verdict, view)
        return await self._submit(verdict, view)

    async def _submit(self, verdict: Verdict, view: DiffView) -> ReviewOutcome:
        event: ReviewEvent = "APPROVE" if verdict.approved else "REQUEST_CHANGES"
        body = "\n\n".join(part for part in (verdict.review_body(), view.notes()) if part)
        review = await self.ctx.github.create_review(self.repo, self.pr_number, self.head_sha, event, body)
        await self.record.step("review", "succeeded", f"{event} as review {review.id} at {self.head_sha}")
        if verdict.approved:
            await self.ctx.conductor.request_merge(self.repo, self.pr_number, self.head_sha)
            await self.record.step("merge_request", "succeeded", f"{self.repo}#{self.pr_number} at {self.head_sha}")
        return ReviewOutcome(verdict)

    async def _unseen(self, verdict: Verdict, view: DiffView) -> ReviewOutcome:
        """The model would approve, but part of the change was never shown to it: a comment, and people decide."""
        why = f"review-e cannot approve {self.repo}#{self.pr_number} at {self.head_sha}: {view.notes()}"
        body = f"{verdict.review_body()}\n\nNot approved: {view.notes()} A person has to review these files."
        review = await self.ctx.github.create_review(self.repo, self.pr_number, self.head_sha, "COMMENT", body)
        await self.record.step("review", "succeeded", f"COMMENT as review {review.id}: {why}")
        return ReviewOutcome(verdict, escalation=why)
