"""Dev-E (docs/design.md §2, 8): implement an issue in a clone, check it, push it, open the PR that closes it."""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from rig_agent.assignment import Assignment
from rig_agent.branches import continuing, refusal
from rig_agent.commands import CommandResult, run_command
from rig_agent.conductor import Conductor
from rig_agent.prompts import dev_prompt, escalation_in
from rig_agent.providing import ProviderSetup, Totals, run_provider
from rig_agent.runs import RunRecord
from rig_agent.sessions import Sessions
from rig_agent.workspace import Workspace, branch_name
from rig_github import GitHubClient
from rig_providers.sandbox import Sandbox

log = logging.getLogger(__name__)


class EscalationError(Exception):
    """The run cannot proceed: people must look (the reason says why); no broken PR is opened."""


@dataclass(frozen=True, slots=True)
class DevOptions:
    """Where Dev-E works and how hard it tries."""

    work_root: Path
    check_attempts: int = 2
    """Provider runs allowed to make the build and tests pass."""
    command_timeout_s: float = 1800.0
    tool_install: str = ""
    """Shell template installing one tool of `.rig-agent.yaml` (`{tool}`) into the run's HOME, e.g.
    `npm install -g --prefix "$HOME/.local" {tool}` (system folders are read-only in the sandbox); empty: skip."""
    sandbox: Sandbox = field(default_factory=lambda: Sandbox.detect(required=False))
    """Where repository commands run (never where they could read the agent's secrets)."""


@dataclass(frozen=True, slots=True)
class DevContext:
    """What every Dev-E run shares."""

    agent: str
    github: GitHubClient
    conductor: Conductor
    sessions: Sessions
    setup: ProviderSetup
    options: DevOptions


class DevRun:
    """One Dev-E run on one assignment."""

    def __init__(self, ctx: DevContext, record: RunRecord, assignment: Assignment) -> None:
        self.ctx = ctx
        self.record = record
        self.a = assignment
        self.totals = Totals()
        assigned = assignment.field("branch")
        self.continuing = continuing(assignment.field("reason"), assigned)
        """A dispute, a fix or its retry: the PR's branch exists and the provider session may be resumed."""
        self.branch = assigned if self.continuing else branch_name(assignment.number, assignment.field("title"))
        self.expected = ""
        """The branch's commit when it was checked out ("" for a new branch): the push's lease."""
        self.path = ctx.options.work_root / assignment.repo.replace("/", "__") / f"{assignment.number}"
        self.pushed_before = False
        """A new item's branch was already on GitHub: an earlier try pushed the work, the PR may still be missing."""

    async def execute(self) -> int | None:
        """Do the work; the PR number (None when the PR existed already)."""
        workspace = await self._checkout()
        await self._install_tools()
        await self._develop()
        if await workspace.commit_all(self._commit_message()) is not None:
            await workspace.push(self.branch, self.expected)
            await self.record.step("push", "succeeded", f"{self.branch} at {await workspace.head()}")
        elif self.continuing or not self.pushed_before:
            # Pushing nothing would leave the PR waiting for a head that never comes.
            raise EscalationError("the provider made no change to the repository"
                                  + (f" to address: {self.a.field('feedback')[:500]}" if self.continuing else ""))
        if self.continuing:
            return None
        pull = await self.ctx.github.open_pull(self.a.repo, head=self.branch, title=self.a.field("title"),
                                               body=f"Closes #{self.a.number}\n\nImplemented by {self.ctx.agent}.")
        await self.record.step("pull_request", "succeeded", pull.html_url)
        return pull.number

    async def _checkout(self) -> Workspace:
        token = await self.ctx.github.git_token()
        repo = await self.ctx.github.get_repo(self.a.repo)
        if (why := refusal(self.branch, self.a.number, repo.default_branch)) is not None:
            raise EscalationError(f"{why} (reason {self.a.field('reason') or 'new'!r}); nothing was pushed")
        shutil.rmtree(self.path, ignore_errors=True)  # a retried run starts from what is on GitHub
        workspace = Workspace(self.path, token)
        await workspace.clone(repo.clone_url)
        exists = bool((await workspace.git("ls-remote", "--heads", "origin", self.branch)).strip())
        if exists:  # a dispute or a fix; or an earlier try of this run pushed before it died
            self.pushed_before = not self.continuing
            await workspace.git("checkout", "--quiet", self.branch)
            self.expected = await workspace.head()
        elif self.continuing:
            raise EscalationError(f"branch {self.branch} is gone from {self.a.repo}")
        else:
            await workspace.start_branch(self.branch)
        await self.record.step("clone", "succeeded", f"{self.a.repo} on {self.branch}")
        return workspace

    async def _install_tools(self) -> None:
        template = self.ctx.options.tool_install
        if not template or not self.a.tools:
            return
        for tool in self.a.tools:
            result = await self._command(template.replace("{tool}", tool))
            if not result.ok:
                raise EscalationError(f"installing {tool} failed: {result.tail[-500:]}")
        await self.record.step("tools", "succeeded", ", ".join(self.a.tools))

    async def _develop(self) -> None:
        sessions = self.ctx.sessions
        session = await sessions.get(self.a.repo, self.a.number) if self.continuing else None
        feedback = self.a.field("feedback")
        attempt_field = self.a.field("attempt")
        provider = self.ctx.setup.provider_for("dev", int(attempt_field) if attempt_field.isdigit() else 1)
        for attempt in range(1, self.ctx.options.check_attempts + 1):
            prompt = dev_prompt(self.a.repo, self.a.number, self.a.field("title"),
                                self.a.field("issueBody") or self.a.field("body"),
                                feedback=feedback, test_command=self.a.field("testCommand"),
                                build_command=self.a.field("buildCommand"))
            result = await run_provider(self.ctx.setup, provider, self.record, self.totals, prompt, self.path,
                                        session)
            if result.is_error and session is not None and not result.turns:
                await sessions.forget(self.a.repo, self.a.number)  # gone or unusable: start afresh
                session = None
                result = await run_provider(self.ctx.setup, provider, self.record, self.totals, prompt, self.path,
                                            None)
            if result.is_error:
                raise EscalationError(f"the provider gave up ({result.stop_reason}): {result.final_text[-500:]}")
            if (reason := escalation_in(result.final_text)) is not None:
                raise EscalationError(f"the provider asked for a person: {reason}")
            if result.session_id:
                session = result.session_id
                await sessions.put(self.a.repo, self.a.number, session)
            failed = await self._checks()
            if failed is None:
                return
            feedback = f"`{failed.command}` failed:\n{failed.tail}"
            log.info("%s: checks failed after attempt %d", self.a.subject, attempt)
        raise EscalationError(f"build or tests still fail after {self.ctx.options.check_attempts} attempts: {feedback}")

    async def _checks(self) -> CommandResult | None:
        """Run buildCommand then testCommand; the first that fails, or None."""
        for step, name in (("build", "buildCommand"), ("test", "testCommand")):
            command = self.a.field(name)
            if not command:
                continue
            result = await self._command(command)
            await self.record.step(step, "succeeded" if result.ok else "failed", result.tail[-1500:])
            if not result.ok:
                return result
        return None

    async def _command(self, command: str) -> CommandResult:
        options = self.ctx.options
        return await run_command(command, self.path, self.record.line, timeout_s=options.command_timeout_s,
                                 sandbox=options.sandbox, home=self.path.with_name(f"{self.path.name}.home"))

    def _commit_message(self) -> str:
        reason = self.a.field("reason")
        what = f"Address {reason}" if self.continuing and reason else self.a.field("title") or "Changes"
        return f"{what} (#{self.a.number})"
