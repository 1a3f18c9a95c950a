"""The merge worker: evaluates due merge requests against GitHub, merges, and records why the others wait.

A request is due when it is new, when an event about its PR arrived, or when a backed-off re-check (GitHub's
`unknown` mergeability, a GitHub failure) is scheduled. The worker sleeps until the next due time or until a
commit notifies it (`projection.WAKE_CHANNEL`): no tight poll. GitHub I/O happens outside any transaction;
each request's outcome is written in one transaction with its MERGE_BLOCKED, if any.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import Any

import asyncpg
from prometheus_client import Counter

from rig_contracts.catalogue import MergeBlockedEvent
from rig_contracts.reviewers import Reviewers
from rig_db import outbox
from rig_github import GitHubError, HeadMovedError, NotMergeableError, RateLimitedError
from rig_kit import ServiceKit
from rig_merger import projection as db
from rig_merger.domain import Outcome, Verdict, backoff, decide
from rig_merger.github import PullRequests
from rig_merger.handlers import SOURCE
from rig_merger.settings import MergerSettings
from rig_service.waiting import wait_set

log = logging.getLogger(__name__)

AFTER_MERGE_CALL = "merger.after_merge_call"
"""Fault point: GitHub merged, the merger has not recorded it."""

BATCH = 8
"""Requests evaluated at once (the GitHub client's pool bounds the calls anyway)."""

EVALUATIONS = Counter("rig_merger_evaluations_total", "Merge request evaluations, by outcome and reason",
                      ["outcome", "reason"])
MERGES = Counter("rig_merger_merge_calls_total", "Merge calls to GitHub, by result", ["result"])
GITHUB_FAILURES = Counter("rig_merger_github_failures_total",
                          "Evaluations put off because GitHub failed after the client's retries, by error kind",
                          ["kind"])


class MergeWorker:
    """Runs for the merger's lifetime (a kit job); `pulls` None when no conductor credentials are configured."""

    def __init__(self, kit: ServiceKit, settings: MergerSettings, pulls: PullRequests | None,
                 reviewers: Reviewers | None = None) -> None:
        self.kit = kit
        self.reviewers = reviewers or Reviewers()
        self.settings = settings
        self.pulls = pulls
        self._woken = asyncio.Event()
        # The same name as the kit's consumer: a restarted process (same host or pod) is the same owner.
        self.owner = f"{kit.name}-{socket.gethostname()}"

    def _on_notify(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        if payload == self.kit.schema:
            self._woken.set()

    async def run(self) -> None:
        """Evaluate due requests until cancelled; a lost database connection starts the loop again."""
        while True:
            try:
                await self._serve()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                log.exception("merge worker: database unavailable; starting again in %.1fs",
                              self.settings.merger_retry_first_s)
                await asyncio.sleep(self.settings.merger_retry_first_s)

    async def _serve(self) -> None:
        """Take back this process's leases, then evaluate, sleeping until woken or the next request is due."""
        async with self.kit.pool.acquire() as listener:
            if released := await db.release_leases(listener, self.owner):
                log.info("took back %d merge requests an earlier run of %s was evaluating", released, self.owner)
            await listener.add_listener(db.WAKE_CHANNEL, self._on_notify)
            lost = asyncio.Event()

            def on_lost(_conn: Any) -> None:
                lost.set()
                self._woken.set()

            listener.add_termination_listener(on_lost)
            try:
                while not lost.is_set():  # a lost listener would miss wake-ups: start again
                    self._woken.clear()
                    if await self.round():
                        continue
                    async with self.kit.pool.acquire() as conn:
                        due_in = await db.next_due_in(conn)
                    sleep = min(self.settings.merger_idle_check_s, due_in if due_in is not None else float("inf"))
                    await wait_set(self._woken, sleep)
            finally:
                if not lost.is_set():
                    await listener.remove_listener(db.WAKE_CHANNEL, self._on_notify)
        raise ConnectionError("the wake-up listener's database connection was closed")

    async def round(self) -> int:
        """Evaluate the requests due now (up to a batch); return how many there were."""
        async with self.kit.pool.acquire() as conn:
            due = await db.take_due(conn, BATCH, self.settings.merger_lease_s, self.owner)
        await asyncio.gather(*(self.evaluate(request) for request in due))
        return len(due)

    async def evaluate(self, request: db.Request) -> None:
        """Decide on one request with GitHub's facts now, act, and record the outcome."""
        if self.pulls is None:
            await self._write(request, Verdict(Outcome.WAIT, "no GitHub credentials",
                                               "set RIG_GITHUB_CONDUCTOR_APP_ID, _INSTALLATION_ID and _PRIVATE_KEY"))
            return
        try:
            facts = await self.pulls.facts(request.repo, request.pr_number, request.head_sha)
            verdict = decide(request.head_sha, facts, self.settings.merger_blocking_labels,
                             require_checks=self.settings.merger_require_checks, reviewers=self.reviewers,
                             required_checks=self.settings.merger_required_checks)
            if verdict.outcome is Outcome.MERGE:
                verdict = await self._merge(request)
            if verdict.outcome is Outcome.BLOCKED and verdict.reason == "conflict":
                await self.pulls.say_conflict(request.repo, request.pr_number, request.head_sha)
        except GitHubError as error:
            await self._put_off(request, error)
            return
        except Exception:
            log.exception("evaluating the merge request for %s#%d failed", request.repo, request.pr_number)
            await self._put_off(request, None)
            return
        await self._write(request, verdict)

    async def _merge(self, request: db.Request) -> Verdict:
        assert self.pulls is not None
        try:
            result = await self.pulls.merge(request.repo, request.pr_number, request.head_sha)
        except HeadMovedError as error:
            MERGES.labels("head_moved").inc()
            return Verdict(Outcome.BLOCKED, "head moved", error.message)
        except NotMergeableError as error:
            MERGES.labels("not_mergeable").inc()
            return Verdict(Outcome.BLOCKED, "not mergeable", error.message)
        self.kit.faults.reach(AFTER_MERGE_CALL)
        MERGES.labels("already_merged" if result.already_merged else "merged").inc()
        return Verdict(Outcome.MERGED, "already merged" if result.already_merged else "merged",
                       result.merge_commit_sha or "")

    async def _put_off(self, request: db.Request, error: GitHubError | None) -> None:
        """GitHub failed (after the client's own retries): try this request again after a backed-off pause."""
        kind = error.outcome if error is not None else "bug"
        GITHUB_FAILURES.labels(kind).inc()
        wait = backoff(request.error_tries, self.settings.merger_retry_first_s, self.settings.merger_retry_max_s)
        if isinstance(error, RateLimitedError) and error.retry_after:
            wait = max(wait, error.retry_after)
        log.warning("merge request for %s#%d put off %.1fs: %s", request.repo, request.pr_number, wait,
                    error.message if error else "unexpected error")
        async with self.kit.pool.acquire() as conn:
            await db.settle(conn, request.id, state=request.state, reason=request.reason, detail=request.detail,
                            due_in_s=wait, unknown_tries=request.unknown_tries, error_tries=request.error_tries + 1)

    async def _write(self, request: db.Request, verdict: Verdict) -> None:
        EVALUATIONS.labels(verdict.outcome.value, verdict.reason).inc()
        if verdict.outcome is Outcome.MERGED:
            log.info("%s#%d at %s: %s, %s", request.repo, request.pr_number, request.head_sha, verdict.reason,
                     verdict.detail)
        due_in: float | None = None
        unknown = 0
        if verdict.outcome is Outcome.RECHECK and request.unknown_tries < self.settings.merger_unknown_tries:
            unknown = request.unknown_tries + 1
            due_in = backoff(request.unknown_tries, self.settings.merger_unknown_first_s,
                             self.settings.merger_unknown_max_s)
        state = {Outcome.MERGED: "merged", Outcome.BLOCKED: "blocked"}.get(verdict.outcome, "waiting")
        if verdict.final and verdict.outcome is Outcome.BLOCKED:
            state = "stopped"
        changed = request.state != "blocked" or request.reason != verdict.reason
        announce = verdict.outcome is Outcome.BLOCKED and changed
        async with self.kit.pool.acquire() as conn, conn.transaction():
            blocks = request.blocks + 1 if announce else request.blocks
            written = await db.settle(conn, request.id, state=state, reason=verdict.reason, detail=verdict.detail,
                                      due_in_s=due_in, unknown_tries=unknown, blocks=blocks,
                                      merge_sha=verdict.detail if verdict.outcome is Outcome.MERGED else None)
            if announce and written:
                await outbox.add(conn, [outbox.OutboxEntry(self._blocked(request, verdict, blocks),
                                                           self.kit.names.events)])

    def _blocked(self, request: db.Request, verdict: Verdict, blocks: int) -> MergeBlockedEvent:
        ref = f"{request.repo}#{request.pr_number}@{request.head_sha}"
        log.info("merge of %s blocked: %s (%s)", ref, verdict.reason, verdict.detail)
        return MergeBlockedEvent.of(
            source=SOURCE, subject=request.subject, key=f"merge-blocked:{ref}:{blocks}",
            correlation_id=request.request_event_id, causation_id=request.request_event_id,
            data={"repo": request.repo, "pr_number": request.pr_number, "reason": verdict.reason,
                  "detail": verdict.detail[:2000], "head_sha": request.head_sha})
