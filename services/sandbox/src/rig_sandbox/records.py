"""What the sandbox remembers, as pydantic records saved to one JSON file (see `store`).

A pull request is an issue too (they share numbers, title, body, labels and comments, as on GitHub): its
`Issue` record has `is_pull` set and its `Pull` record holds what only pull requests have.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, Field

AccountType = Literal["User", "Bot", "Organization"]
Role = Literal["conductor", "dev", "review"]
ROLES: tuple[Role, ...] = ("conductor", "dev", "review")
"""The three GitHub Apps, one per role of docs/design.md section 8."""


def now_iso() -> str:
    """The current time as GitHub writes it: `2024-05-01T12:00:00Z`."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Account(BaseModel):
    """A user, an App's bot user (`{slug}[bot]`) or an organization that owns repositories."""

    login: str
    id: int
    type: AccountType
    name: str | None = None
    collaborator: bool = True
    """Sandbox users and Apps collaborate on every repository; an outsider (False) is associated with none."""


class AppRecord(BaseModel):
    """A GitHub App of the sandbox, with its one installation covering every repository."""

    role: Role
    id: int
    slug: str
    name: str
    installation_id: int
    owner: str
    bot_login: str
    key_path: str
    public_pem: str
    created_at: str = Field(default_factory=now_iso)


class TokenRecord(BaseModel):
    """An installation token (`ghs_…`) or a user's personal access token (`ghp_…`)."""

    token: str
    kind: Literal["installation", "pat"]
    login: str
    app_role: Role | None = None
    expires_at: float | None = None
    repositories: list[str] | None = None
    """Full names (lower case) the token is limited to; None: every repository."""


class Label(BaseModel):
    """A repository's label."""

    id: int
    name: str
    color: str = "ededed"
    description: str | None = None


class Issue(BaseModel):
    """An issue, or the issue side of a pull request."""

    number: int
    id: int
    title: str
    body: str | None = None
    user: str
    state: Literal["open", "closed"] = "open"
    state_reason: str | None = None
    labels: list[str] = Field(default_factory=list)
    assignees: list[str] = Field(default_factory=list)
    comments: int = 0
    is_pull: bool = False
    locked: bool = False
    created_at: str = Field(default_factory=now_iso)
    updated_at: str = Field(default_factory=now_iso)
    closed_at: str | None = None
    closed_by: str | None = None


class Pull(BaseModel):
    """What a pull request has beyond its issue: its refs and its merge."""

    number: int
    id: int
    head_ref: str
    head_sha: str
    base_ref: str
    base_sha: str
    draft: bool = False
    merged: bool = False
    merged_at: str | None = None
    merged_by: str | None = None
    merge_commit_sha: str | None = None
    unknown_until: float = 0.0
    """Epoch seconds until which `mergeable_state` stays `unknown` (chaos after a push)."""
    head_repo: str | None = None
    """Full name of the fork that holds the head branch; None: the head branch is in this repository."""


class Comment(BaseModel):
    """A comment on an issue or pull request."""

    id: int
    number: int
    user: str
    body: str
    created_at: str = Field(default_factory=now_iso)
    updated_at: str = Field(default_factory=now_iso)


class Review(BaseModel):
    """A pull request review."""

    id: int
    number: int
    user: str
    body: str
    state: Literal["APPROVED", "CHANGES_REQUESTED", "COMMENTED", "PENDING", "DISMISSED"]
    commit_id: str
    submitted_at: str | None = None


class CheckSuite(BaseModel):
    """One App's check suite for one head commit."""

    id: int
    app_role: Role
    head_sha: str
    head_branch: str | None
    created_at: str = Field(default_factory=now_iso)
    updated_at: str = Field(default_factory=now_iso)


class CheckRun(BaseModel):
    """A check run; a later run with the same name on the same commit supersedes it."""

    id: int
    suite_id: int
    app_role: Role
    head_sha: str
    name: str
    status: Literal["queued", "in_progress", "completed", "waiting", "requested", "pending"]
    conclusion: str | None = None
    started_at: str | None = None
    completed_at: str | None = None
    external_id: str | None = None
    details_url: str | None = None
    title: str | None = None
    summary: str | None = None
    text: str | None = None


class CommitStatus(BaseModel):
    """A commit status; the latest per context counts."""

    id: int
    sha: str
    state: Literal["error", "failure", "pending", "success"]
    context: str
    description: str | None = None
    target_url: str | None = None
    creator: str
    created_at: str = Field(default_factory=now_iso)
    updated_at: str = Field(default_factory=now_iso)


class Repo(BaseModel):
    """A repository: its settings and everything on it except the git data (a bare repository on disk)."""

    id: int
    owner: str
    name: str
    default_branch: str = "main"
    description: str | None = None
    fork_of: str | None = None
    """Full name of the repository this one was forked from; None: not a fork."""
    require_review: bool = False
    """Like branch protection's required approving review: without an approval, `mergeable_state` is blocked."""
    require_up_to_date: bool = False
    """Like branch protection's strict status checks: a head without the base's tip is `behind`."""
    required_checks: list[str] | None = None
    """Branch protection's required status checks on the default branch (None: not protected, GitHub's 404)."""
    created_at: str = Field(default_factory=now_iso)
    updated_at: str = Field(default_factory=now_iso)
    pushed_at: str = Field(default_factory=now_iso)
    next_number: int = 1
    labels: dict[str, Label] = Field(default_factory=dict)
    issues: dict[int, Issue] = Field(default_factory=dict)
    pulls: dict[int, Pull] = Field(default_factory=dict)
    comments: list[Comment] = Field(default_factory=list)
    reviews: list[Review] = Field(default_factory=list)
    check_suites: list[CheckSuite] = Field(default_factory=list)
    check_runs: list[CheckRun] = Field(default_factory=list)
    statuses: list[CommitStatus] = Field(default_factory=list)

    @property
    def full_name(self) -> str:
        """`owner/name`."""
        return f"{self.owner}/{self.name}"


class State(BaseModel):
    """Everything the sandbox remembers, saved as one document."""

    next_id: int = 1000
    accounts: dict[str, Account] = Field(default_factory=dict)
    apps: dict[str, AppRecord] = Field(default_factory=dict)
    tokens: dict[str, TokenRecord] = Field(default_factory=dict)
    repos: dict[str, Repo] = Field(default_factory=dict)
