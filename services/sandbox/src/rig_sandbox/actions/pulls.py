"""Pull requests as GitHub shows them: git facts, the merge gate behind `mergeable_state`, and their events."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Any

from rig_sandbox.context import Sandbox
from rig_sandbox.git.objects import MergeResult
from rig_sandbox.git.repository import GitRepository
from rig_sandbox.records import Account, Issue, Pull, Repo
from rig_sandbox.shapes.pulls import HeadSide, PullFacts, pull_json, pull_simple_json
from rig_sandbox.verdicts import MergeGate, approved, merge_gate


@dataclass(frozen=True, slots=True)
class Gate:
    """The merge gate of an open pull request, with the in-memory merge it was computed from."""

    verdict: MergeGate
    merge: MergeResult | None
    base_tip: str | None


def start_unknown_window(sandbox: Sandbox, repo: Repo, pull: Pull) -> None:
    """Chaos after a push: keep `mergeable_state` unknown for a seeded moment (half the maximum to the maximum).

    The moment depends on the seed, the pull request and its head and base, never on timing, so a replay with
    the same seed sees the same windows.
    """
    longest = sandbox.settings.sandbox_mergeable_unknown_max_s
    if longest <= 0:
        pull.unknown_until = 0.0
        return
    seed = sandbox.settings.sandbox_chaos_seed
    chooser = random.Random(f"{seed}:{repo.full_name}:{pull.number}:{pull.head_sha}:{pull.base_sha}") \
        if seed is not None else random.Random()  # noqa: S311 - chaos, not secrecy
    pull.unknown_until = time.time() + chooser.uniform(longest / 2, longest)


async def compute_gate(sandbox: Sandbox, repo: Repo, issue: Issue, pull: Pull) -> Gate:
    """Merge the head into the base in memory and apply the checks, statuses and review rules."""
    git = sandbox.repository(repo)
    base_tip = await git.branch_sha(pull.base_ref)
    if base_tip is None or await git.resolve(pull.head_sha) is None:
        return Gate(MergeGate("dirty", "Pull Request is not mergeable"), None, base_tip)
    merged = await git.merge(base_tip, pull.head_sha)
    verdict = merge_gate(
        conflicted=merged.conflicted,
        runs=[run for run in repo.check_runs if run.head_sha == pull.head_sha],
        statuses=[status for status in repo.statuses if status.sha == pull.head_sha],
        require_review=repo.require_review,
        # As on GitHub, only reviewers with write access count towards a required approval (never an outsider).
        is_approved=approved((review for review in repo.reviews
                              if review.number == pull.number and sandbox.who(review.user).collaborator), issue.user),
        require_up_to_date=repo.require_up_to_date, up_to_date=await git.is_ancestor(base_tip, pull.head_sha),
        draft=pull.draft,
        required=repo.required_checks or () if pull.base_ref == repo.default_branch else ())
    return Gate(verdict, merged, base_tip)


async def changes_start(git: GitRepository, pull: Pull) -> str:
    """Where a PR's changes start: the merge base of its head and its base (the base as merged, once merged)."""
    base = pull.base_sha if pull.merged else (await git.branch_sha(pull.base_ref) or pull.base_sha)
    return await git.merge_base(base, pull.head_sha) or base


async def pull_facts(sandbox: Sandbox, repo: Repo, issue: Issue, pull: Pull, *, mergeability: bool) -> PullFacts:
    """Commit and line counts from git; `mergeable` and `mergeable_state` when asked (else unknown, as webhooks)."""
    git = sandbox.repository(repo)
    merge_base = await changes_start(git, pull)
    commits = await git.count_between(merge_base, pull.head_sha)
    files, additions, deletions = await git.stats(merge_base, pull.head_sha)
    mergeable: bool | None = None
    state = "unknown"
    if mergeability and not pull.merged and time.time() >= pull.unknown_until:
        gate = await compute_gate(sandbox, repo, issue, pull)
        mergeable, state = gate.verdict.state != "dirty", gate.verdict.state
    return PullFacts(mergeable=mergeable, mergeable_state=state, commits=commits, additions=additions,
                     deletions=deletions, changed_files=files)


def simple_json(sandbox: Sandbox, repo: Repo, issue: Issue, pull: Pull) -> dict[str, Any]:
    """The pull request as lists show it."""
    return pull_simple_json(sandbox.urls, repo, sandbox.repo_json(repo), sandbox.owner_of(repo), issue, pull,
                            sandbox.who, _fork_side(sandbox, pull))


async def full_json(sandbox: Sandbox, repo: Repo, issue: Issue, pull: Pull, *,
                    mergeability: bool = True) -> dict[str, Any]:
    """The pull request in full, with git's facts."""
    facts = await pull_facts(sandbox, repo, issue, pull, mergeability=mergeability)
    return pull_json(sandbox.urls, repo, sandbox.repo_json(repo), sandbox.owner_of(repo), issue, pull, facts,
                     sandbox.who, _fork_side(sandbox, pull))


def _fork_side(sandbox: Sandbox, pull: Pull) -> HeadSide | None:
    """The fork holding the PR's head, shaped; None when the head is in the base repository."""
    fork = sandbox.store.repo(*pull.head_repo.split("/", 1)) if pull.head_repo else None
    return HeadSide(sandbox.repo_json(fork), sandbox.owner_of(fork)) if fork is not None else None


async def emit_pull(sandbox: Sandbox, repo: Repo, number: int, action: str, sender: Account,
                    **extra: Any) -> None:
    """Send a `pull_request` event (mergeability unknown, as GitHub's webhooks usually carry it)."""
    issue, pull = repo.issues[number], repo.pulls[number]
    payload = {"action": action, "number": number,
               "pull_request": await full_json(sandbox, repo, issue, pull, mergeability=False), **extra}
    sandbox.emit("pull_request", repo, sender, payload)
    for hook in sandbox.pull_hooks:
        await hook(repo, number, action)
