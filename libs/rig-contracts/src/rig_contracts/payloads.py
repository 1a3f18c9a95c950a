"""Typed `data` of every event type (docs/design.md section 2), one model per type."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, Field

from rig_contracts.envelope import Payload

Repo = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")]
"""`owner/name`, as GitHub spells it."""


class IssueRef(Payload):
    """Points at one issue of one repository."""

    repo: Repo = Field(description="owner/name")
    number: int = Field(ge=1, description="Issue number.")


class PrRef(Payload):
    """Points at one pull request of one repository."""

    repo: Repo = Field(description="owner/name")
    pr_number: int = Field(ge=1, description="Pull request number.")


class Usage(Payload):
    """Model tokens in four separate buckets (cache tokens never counted inside input)."""

    input_tokens: int = Field(default=0, ge=0, description="Uncached input tokens.")
    output_tokens: int = Field(default=0, ge=0, description="Output tokens, reasoning included.")
    cache_read_tokens: int = Field(default=0, ge=0, description="Input tokens read from the prompt cache.")
    cache_write_tokens: int = Field(default=0, ge=0, description="Input tokens written to the prompt cache.")


class IssueApproved(IssueRef):
    """The issue got the `agent-ready` label."""

    title: str = Field(description="Issue title.")
    body: str = Field(default="", description="Issue body (untrusted text).")
    labels: tuple[str, ...] = Field(default=(), description="Labels on the issue after the change.")
    author: str = Field(default="", description="Login of the issue's author.")
    approved_by: str = Field(default="", description="Login of who added the label.")


class IssueUnapproved(IssueRef):
    """The `agent-ready` label was removed."""

    removed_by: str = Field(default="", description="Login of who removed the label.")


class IssueClosed(IssueRef):
    """The issue was closed."""

    state_reason: Literal["completed", "not_planned", "duplicate"] = Field(description="GitHub's state_reason.")


class IssueCancelled(IssueRef):
    """Work on the item stopped."""

    reason: str = Field(description="Why: label removed, closed as not planned, …")


class IssueAssigned(IssueRef):
    """The router gave the item to an agent pool."""

    agent: str = Field(description="Agent pool, e.g. dev-e-node.")
    stack: str = Field(description="Stack from .rig-agent.yaml.")
    assignment_id: str = Field(description="Id of the assignment entry.")
    attempt: int = Field(default=1, ge=1, description="1 for the first assignment, +1 per reassignment.")
    issue_budget_usd: float | None = Field(default=None, gt=0, description="The repository's `.rig-agent.yaml` "
                                           "cap of this issue (it can only tighten the installation's).")
    day_budget_usd: float | None = Field(default=None, gt=0, description="Its cap of the repository per UTC day.")


class IssueEscalated(IssueRef):
    """The item needs a human or a special agent."""

    reason: str = Field(description="What is needed and why.")
    to: str | None = Field(default=None, description="Agent pool it went to, if any (e.g. ibuild-e).")


class IssueBlocked(IssueRef):
    """The item cannot proceed."""

    reason: str = Field(description="What blocks it and how to unblock it.")


class WorkStarted(IssueRef):
    """Someone began working on the item."""

    agent: str = Field(description="Agent id or human login.")
    branch: str = Field(default="", description="Branch the work happens on.")
    assignment_id: str | None = Field(default=None, description="Assignment being worked on, if any.")


class PrCreated(PrRef):
    """A PR was opened and linked to its issue by a closing keyword."""

    issue_number: int = Field(ge=1, description="Issue the PR closes.")
    head_sha: str = Field(description="Head commit SHA.")
    head_ref: str = Field(description="Head branch name.")
    base_ref: str = Field(description="Base branch name.")
    url: str = Field(default="", description="HTML URL of the PR.")
    author: str = Field(default="", description="Login of the PR's author.")
    head_repo: str = Field(default="", description="`owner/name` of the repository holding the head branch: "
                                                   "another than `repo` for a PR from a fork; empty when unknown "
                                                   "(a deleted fork, or an event from before this field).")


class PrReported(PrRef):
    """Someone says they opened a PR (shown, never routed on)."""

    url: str = Field(default="", description="HTML URL of the PR.")
    branch: str = Field(default="", description="Head branch.")
    reporter: str = Field(description="Agent id or human login.")


class PrUpdated(PrRef):
    """A new head SHA was pushed."""

    head_sha: str = Field(description="New head SHA.")
    before_sha: str = Field(default="", description="Previous head SHA.")
    author: str = Field(default="", description="Login of the PR's author.")
    head_repo: str = Field(default="", description="`owner/name` of the repository holding the head branch "
                                                   "(see PR_CREATED); empty when unknown.")


class PrLabelsChanged(PrRef):
    """Labels on a PR changed."""

    labels: tuple[str, ...] = Field(description="Labels after the change.")


class PrClosed(PrRef):
    """A PR was closed without merging."""


class ReviewAssigned(PrRef):
    """The router sent a PR head to the review agent."""

    head_sha: str = Field(description="Head SHA to review.")
    round: int = Field(ge=1, description="Review round, 1-based.")
    agent: str = Field(default="review-e", description="Reviewing agent pool.")
    assignment_id: str = Field(description="Id of the assignment entry.")


class ReviewPassed(PrRef):
    """An approving review was submitted."""

    review_id: int = Field(description="GitHub review id.")
    commit_id: str = Field(description="Head SHA the review approves.")
    reviewer: str = Field(description="Reviewer login.")
    author_association: str = Field(
        default="", description="The reviewer's `author_association` with the repository (OWNER, MEMBER, "
                                "COLLABORATOR, CONTRIBUTOR, NONE …); empty in events written before it was kept.")
    pr_author: str = Field(default="", description="Login of the PR's author (a review by its author never counts).")


class ReviewDisputed(PrRef):
    """Changes were requested."""

    review_id: int = Field(description="GitHub review id.")
    commit_id: str = Field(description="Head SHA the review is about.")
    reviewer: str = Field(description="Reviewer login.")
    author_association: str = Field(
        default="", description="The reviewer's `author_association` with the repository (OWNER, MEMBER, "
                                "COLLABORATOR, CONTRIBUTOR, NONE …); empty in events written before it was kept.")
    pr_author: str = Field(default="", description="Login of the PR's author (a review by its author never counts).")
    feedback: str = Field(default="", description="The review's body.")


class CheckResult(Payload):
    """One check run or commit status."""

    name: str = Field(description="Check or status context name.")
    conclusion: str = Field(
        description="success, failure, neutral, cancelled, timed_out, action_required, skipped, error.")
    summary: str = Field(default="", description="Short output summary.")


class ChecksCompleted(Payload):
    """CI finished for a SHA."""

    repo: Repo = Field(description="owner/name")
    sha: str = Field(description="Commit SHA the checks ran on.")
    conclusion: str = Field(description="Overall conclusion.")
    checks: tuple[CheckResult, ...] = Field(default=(), description="Per check results.")
    pr_number: int | None = Field(default=None, description="PR the SHA heads, when known.")


class MergeRequested(PrRef):
    """A merge request was accepted."""

    head_sha: str = Field(description="Approved head SHA to merge.")
    requested_by: str = Field(description="Subject that asked.")


class MergeBlocked(PrRef):
    """The merger will not merge now."""

    reason: Literal["head moved", "checks failed", "conflict", "behind", "label", "not mergeable", "closed"] = Field(
        description="Why the merge is blocked."
    )
    detail: str = Field(default="", description="Specifics: failing checks, the label, the new head.")
    head_sha: str = Field(default="", description="Head SHA the decision was made at.")


class Merged(PrRef):
    """The PR was merged (from the pull_request.closed webhook)."""

    sha: str = Field(description="Head SHA that was merged.")
    merge_sha: str = Field(description="The merge commit on the base branch.")


class IssueDone(IssueRef):
    """The item's work is finished."""

    pr_number: int | None = Field(default=None, description="The merged PR.")
    merge_sha: str = Field(default="", description="The merge commit.")


class RunStarted(IssueRef):
    """An agent run began."""

    run_id: str = Field(description="Run id.")
    agent: str = Field(description="Agent id.")
    provider: str = Field(default="", description="claude, codex, scripted …")
    model: str = Field(default="", description="Model name.")


class RunStep(Payload):
    """One step of a run (a phase, a turn batch)."""

    run_id: str = Field(description="Run id.")
    step: str = Field(description="Step type: clone, provider, build, test, push …")
    status: str = Field(description="started, succeeded, failed.")
    detail: str = Field(default="", description="What happened.")
    turns: int = Field(default=0, ge=0, description="Provider turns in this step.")
    usage: Usage = Field(default_factory=Usage, description="Tokens used in this step.")
    cost_usd: float | None = Field(default=None, ge=0, description="API-equivalent cost; None when unpriced.")


class RunFinished(IssueRef):
    """A run ended."""

    run_id: str = Field(description="Run id.")
    status: str = Field(description="succeeded, failed, stopped, escalated.")
    turns: int = Field(default=0, ge=0, description="Total turns.")
    usage: Usage = Field(default_factory=Usage, description="Total tokens of this run only.")
    cost_usd: float | None = Field(default=None, ge=0, description="Our API-equivalent cost; None when unpriced.")
    provider_cost_usd: float | None = Field(default=None, ge=0, description="The provider's own figure, if any.")
    duration_ms: int = Field(default=0, ge=0, description="Wall time.")
    duration_api_ms: int = Field(default=0, ge=0, description="Time spent in model calls.")
    pr_number: int | None = Field(default=None, description="PR opened or updated, if any.")


class TokenUsage(Payload):
    """Tokens and cost of a model call outside a run."""

    agent: str = Field(description="Agent id.")
    model: str = Field(description="Model name.")
    category: Literal["work", "idle", "chat"] = Field(description="What the call was for.")
    usage: Usage = Field(default_factory=Usage, description="Tokens.")
    cost_usd: float | None = Field(default=None, ge=0, description="API-equivalent cost; None when unpriced.")


class AgentHeartbeat(Payload):
    """An agent or person is online."""

    agent: str = Field(description="Agent id or human login.")
    status: str = Field(default="online", description="online, busy, idle, offline.")
    provider: str = Field(default="", description="Provider in use.")
    current_task: str | None = Field(default=None, description="Subject being worked on.")
    instance: str = Field(default="", description="Which process of the pool: the public runtime's "
                                                  "`{agent}/{instance}` id names one (last 5 of its HOSTNAME).")
    current_repo: str | None = Field(default=None, description="owner/name it works on, as the runtime reports it.")
    current_issue: int | None = Field(default=None, description="Issue (or PR) it works on, as reported.")
    available_providers: list[str] = Field(default_factory=list, description="Providers it could use.")
    providers: dict[str, object] = Field(default_factory=dict, description="Per-provider state it reports.")
    integrations: dict[str, object] = Field(default_factory=dict, description="Integrations it reports.")


class AgentStuck(Payload):
    """An agent cannot go on."""

    agent: str = Field(description="Agent id.")
    reason: str = Field(description="Why.")


class BudgetExceeded(Payload):
    """An issue's or a repository's budget is spent."""

    scope: Literal["issue", "repo_day"] = Field(description="Which budget.")
    repo: Repo = Field(description="owner/name")
    number: int | None = Field(default=None, description="Issue, for an issue budget.")
    limit_usd: float = Field(ge=0, description="The budget.")
    spent_usd: float = Field(ge=0, description="Spent so far.")


class BudgetWarning(BudgetExceeded):
    """An issue's or a repository's budget is nearly spent (RIG_COSTS_WARN_FRACTION of it, 80% by default)."""


class TokenRevoked(Payload):
    """An access token is no longer valid."""

    jti: str = Field(description="The token's id.")
    expires_at: AwareDatetime | None = Field(default=None, description="When the token would have expired anyway.")
    revoked_by: str = Field(default="", description="Subject that revoked it.")
