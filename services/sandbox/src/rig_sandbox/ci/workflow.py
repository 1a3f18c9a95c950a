"""CI as GitHub Actions looks from the API: a `ci` check run on each new pull request head, completed later.

A pull request's opening, reopening or new head (`synchronize`, from a git push or a control-API commit) on a
repository with CI on creates a `ci` check run `in_progress` at once, through the same code as
`POST /repos/{o}/{r}/check-runs` (so the same `check_run` webhooks go out); the tests then run in the
background, a few at a time, and complete it. Each head gets its own run; an older head's run still
finishes and is recorded, as on GitHub without a concurrency group. Runs left unfinished by a shutdown
run again at the next start.
"""

from __future__ import annotations

import asyncio
import logging

from rig_sandbox.actions.checks import NewCheckRun, complete_check_run, create_check_run
from rig_sandbox.ci.job import CONFIG_FILE, ConfigError, Outcome, run, test_command, worktree
from rig_sandbox.context import WEBHOOK_ROLE, Sandbox
from rig_sandbox.demo import NAME as DEMO_NAME
from rig_sandbox.demo import OWNER as DEMO_OWNER
from rig_sandbox.records import CheckRun, Repo
from rig_sandbox.settings import SandboxSettings

log = logging.getLogger(__name__)

CHECK_NAME = "ci"
EXTERNAL_ID = "rig-sandbox-ci"
"""Marks the check runs this CI made, so a `ci` run posted by someone else is never taken for one of ours."""
TRIGGERS = frozenset({"opened", "reopened", "synchronize"})
"""The `pull_request` actions a workflow `on: pull_request` runs for by default."""

Verdict = tuple[str, str, str]
"""A finished run's conclusion, title and summary."""


def ci_repositories(settings: SandboxSettings) -> frozenset[str]:
    """Full names (lower case) of the repositories with CI on (default: the demo's, when the demo is on)."""
    if settings.sandbox_ci is not None:
        return frozenset(name.strip().lower() for name in settings.sandbox_ci if name.strip())
    return frozenset({f"{DEMO_OWNER}/{DEMO_NAME}"}) if settings.sandbox_demo else frozenset()


class Ci:
    """Starts a `ci` run for each new pull request head and runs the tests in the background."""

    def __init__(self, sandbox: Sandbox) -> None:
        self._sandbox = sandbox
        self._repos = ci_repositories(sandbox.settings)
        self._slots = asyncio.Semaphore(sandbox.settings.sandbox_ci_concurrency)
        self._jobs: set[asyncio.Task[None]] = set()
        self._stopping = False

    def enabled(self, repo: Repo) -> bool:
        """Whether `repo` has CI on."""
        return repo.full_name.lower() in self._repos

    async def on_pull(self, repo: Repo, number: int, action: str) -> None:
        """A `pull_request` event happened: give a new head its `ci` run (the push's answer does not wait)."""
        if action not in TRIGGERS or self._stopping or not self.enabled(repo):
            return
        sha = repo.pulls[number].head_sha
        if any(each.external_id == EXTERNAL_ID and each.head_sha == sha for each in repo.check_runs):
            return  # this commit already has its run (a reopened PR, or two PRs of one branch)
        app = self._sandbox.app(WEBHOOK_ROLE)
        wanted = NewCheckRun(name=CHECK_NAME, head_sha=sha, status="in_progress", external_id=EXTERNAL_ID,
                             title="Running the tests", summary=f"Running `testCommand` from `{CONFIG_FILE}`.")
        try:
            shown = await create_check_run(self._sandbox, repo, app, self._sandbox.who(app.bot_login), wanted)
        except Exception:  # CI that cannot start must not fail the push or the API call that moved the head
            log.exception("ci could not start on %s@%s", repo.full_name, sha)
            return
        self._start(repo, next(each for each in repo.check_runs if each.id == shown["id"]))

    def resume(self) -> None:
        """Run again the runs a previous process left unfinished (it stopped while they ran)."""
        for repo in self._sandbox.store.state.repos.values():
            for unfinished in [each for each in repo.check_runs
                               if each.external_id == EXTERNAL_ID and each.status != "completed"]:
                self._start(repo, unfinished)

    async def stop(self) -> None:
        """Kill the running tests and wait until every job is gone (their runs resume at the next start)."""
        self._stopping = True
        for job in list(self._jobs):
            job.cancel()
        await asyncio.gather(*self._jobs, return_exceptions=True)

    def _start(self, repo: Repo, check_run: CheckRun) -> None:
        job = asyncio.create_task(self._job(repo, check_run), name=f"ci {repo.full_name}@{check_run.head_sha[:7]}")
        self._jobs.add(job)
        job.add_done_callback(self._jobs.discard)

    async def _job(self, repo: Repo, check_run: CheckRun) -> None:
        async with self._slots:
            try:
                conclusion, title, summary = await self._verdict(repo, check_run.head_sha)
            except Exception as error:  # a job must end its run, whatever went wrong on the way
                log.exception("ci run %s on %s@%s failed to run", check_run.id, repo.full_name, check_run.head_sha)
                conclusion, title, summary = "failure", "The run could not start", f"{type(error).__name__}: {error}"
        app = self._sandbox.app(WEBHOOK_ROLE)
        await complete_check_run(self._sandbox, repo, check_run, self._sandbox.who(app.bot_login),
                                 conclusion=conclusion, title=title, summary=summary)
        log.info("ci %s@%s: %s", repo.full_name, check_run.head_sha[:7], conclusion)

    async def _verdict(self, repo: Repo, sha: str) -> Verdict:
        git = self._sandbox.repository(repo)
        try:
            command = await test_command(git, sha)
        except ConfigError as error:
            return "failure", f"Could not read {CONFIG_FILE}", str(error)
        if command is None:
            return "success", "Nothing to run", f"`{CONFIG_FILE}` names no `testCommand` at this commit: " \
                                                "nothing was run."
        async with worktree(self._sandbox.git, git.path, sha) as path:
            outcome = await run(command, path, timeout_s=self._sandbox.settings.sandbox_ci_timeout_s)
        return _verdict_of(command, outcome)


def _verdict_of(command: str, outcome: Outcome) -> Verdict:
    if outcome.timed_out:
        conclusion, title = "timed_out", f"`{command}` timed out after {outcome.seconds:.0f} s"
    elif outcome.exit_code == 0:
        conclusion, title = "success", f"`{command}` passed"
    else:
        conclusion, title = "failure", f"`{command}` failed (exit code {outcome.exit_code})"
    tail = outcome.tail.rstrip("\n") or "(no output)"
    return conclusion, title, f"{title} in {outcome.seconds:.1f} s. The end of its output:\n\n````\n{tail}\n````"
