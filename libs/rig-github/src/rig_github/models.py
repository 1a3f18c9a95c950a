"""Plain, immutable snapshots of what GitHub answered, built inside the thread pool.

The helpers return these rather than PyGithub objects: a PyGithub object makes blocking HTTP calls when a
lazy attribute is first read, and is bound to the `Github` (one per pool thread) that made it. A snapshot is
read safely anywhere, on the event loop too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

ReviewEvent = Literal["APPROVE", "REQUEST_CHANGES", "COMMENT"]
"""What a review says, as GitHub's create-review API names it."""


@dataclass(frozen=True, slots=True)
class RepoInfo:
    """A repository: its name, default branch and addresses."""

    full_name: str
    id: int
    default_branch: str
    private: bool
    html_url: str
    clone_url: str = ""
    """Where git fetches and pushes (authenticated with an installation token, `git_token`)."""


@dataclass(frozen=True, slots=True)
class FileContent:
    """A file's text and its blob SHA (the cache key of `.rig-agent.yaml`)."""

    path: str
    sha: str
    text: str


@dataclass(frozen=True, slots=True)
class CommentResult:
    """The comment carrying a marker, and whether this call posted it (False: it was already there)."""

    id: int
    html_url: str
    posted: bool


@dataclass(frozen=True, slots=True)
class ChangedFile:
    """One file a PR changes, with its unified diff (`patch`; empty for binary or very large files)."""

    filename: str
    status: str
    additions: int
    deletions: int
    patch: str = ""


@dataclass(frozen=True, slots=True)
class Comparison:
    """What `base...head` changes (GitHub's compare API): the files with their patches, the commits' count."""

    base: str
    head: str
    files: tuple[ChangedFile, ...]
    total_commits: int
    status: str
    """`ahead`, `behind`, `diverged` or `identical`."""


@dataclass(frozen=True, slots=True)
class PullInfo:
    """A pull request as GitHub sees it now, mergeability included."""

    repo: str
    number: int
    title: str
    body: str
    state: str
    draft: bool
    merged: bool
    mergeable: bool | None
    mergeable_state: str
    head_sha: str
    head_ref: str
    base_ref: str
    author: str
    labels: tuple[str, ...]
    html_url: str
    merge_commit_sha: str | None


@dataclass(frozen=True, slots=True)
class ReviewInfo:
    """One submitted review: who, what (`APPROVED`, `CHANGES_REQUESTED`, `COMMENTED` …) and at which commit."""

    id: int
    author: str
    state: str
    commit_id: str
    body: str
    submitted_at: datetime | None
    author_association: str = ""
    """How the author relates to the repository: OWNER, MEMBER, COLLABORATOR, CONTRIBUTOR, NONE …"""


@dataclass(frozen=True, slots=True)
class CheckRunInfo:
    """One check run on a commit; `conclusion` is None until it completes."""

    name: str
    status: str
    conclusion: str | None


@dataclass(frozen=True, slots=True)
class StatusInfo:
    """One commit status (the older status API), by context."""

    context: str
    state: str
    description: str | None


@dataclass(frozen=True, slots=True)
class ChecksInfo:
    """Everything CI said about a commit: its check runs and its combined status."""

    sha: str
    check_runs: tuple[CheckRunInfo, ...]
    combined_state: str
    statuses: tuple[StatusInfo, ...]


@dataclass(frozen=True, slots=True)
class MergeResult:
    """A merge that happened: by this call, or before it (`already_merged`, a retry or someone else)."""

    merged: bool
    already_merged: bool
    merge_commit_sha: str | None
    head_sha: str | None
    message: str


@dataclass(frozen=True, slots=True)
class Delivery:
    """One webhook delivery of the App, as GitHub's deliveries API lists it (`raw` holds the full answer)."""

    id: int
    guid: str
    event: str
    action: str | None
    status_code: int
    status: str
    redelivery: bool
    delivered_at: str
    raw: dict[str, Any] = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class DeliveryPage:
    """A page of deliveries, newest first, and the cursor of the next page (None: this is the last)."""

    deliveries: tuple[Delivery, ...]
    next_cursor: str | None
