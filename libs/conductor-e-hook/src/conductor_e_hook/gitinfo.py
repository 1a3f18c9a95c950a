"""What the working copy says about the work: `owner/name` from the origin remote, the issue from the branch."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

_GIT_TIMEOUT = 1.0
"""Seconds for one local git call; both are instant in any healthy repository."""

# https://host/owner/name(.git), ssh://[user@]host[:port]/owner/name(.git), with optional credentials.
_URL_FORM = re.compile(r"^[a-z][a-z0-9+.-]*://(?:[^@/]*@)?[^/]+/(?:.*/)?([^/]+)/([^/]+?)(?:\.git)?/?$", re.IGNORECASE)
# scp-like ssh: [user@]host:owner/name(.git)
_SCP_FORM = re.compile(r"^(?:[^@/]+@)?[^:/]+:(?:.*/)?([^/]+)/([^/]+?)(?:\.git)?/?$")
# A branch segment that names an issue: `123`, `123-fix-login`, `issue-123`, `issues_123`, `gh-123`, `#123`.
_ISSUE_SEGMENT = re.compile(r"^(?:(?:issues?|gh)[-_]?|#)?(\d+)(?:[-_.].*)?$", re.IGNORECASE)


@dataclass(frozen=True)
class WorkingCopy:
    """The repository and branch of a directory, each None where git cannot say."""

    repo: str | None
    branch: str | None

    @property
    def issue_number(self) -> int | None:
        """The issue the branch is named after, if it is."""
        return issue_from_branch(self.branch) if self.branch else None


def repo_from_remote(url: str) -> str | None:
    """`owner/name` from a remote URL in its https, ssh:// or scp-like (`git@host:owner/name.git`) form."""
    url = url.strip()
    match = _URL_FORM.match(url) or (None if "://" in url else _SCP_FORM.match(url))
    if not match:
        return None
    owner, name = match.groups()
    return f"{owner}/{name}" if owner and name else None


def issue_from_branch(branch: str) -> int | None:
    """The issue number in a branch name: `agent/123-slug`, `123-fix`, `issue-123`, `feature/123-x`.

    The last segment that names a number wins, so `release/2/123-fix` is issue 123; a branch like `main` or
    `feature/login` names none.
    """
    for segment in reversed(branch.split("/")):
        match = _ISSUE_SEGMENT.match(segment)
        if match:
            number = int(match.group(1))
            return number if number > 0 else None
    return None


def _git(directory: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(directory), *args],  # noqa: S607  # git from the person's PATH, like their shell
            capture_output=True, text=True, timeout=_GIT_TIMEOUT, check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    output = done.stdout.strip()
    return output if done.returncode == 0 and output else None


def read_working_copy(directory: Path) -> WorkingCopy:
    """Ask git in `directory` for the origin remote and the checked-out branch (None outside a repository)."""
    remote = _git(directory, "remote", "get-url", "origin")
    branch = _git(directory, "symbolic-ref", "--quiet", "--short", "HEAD")
    return WorkingCopy(repo=repo_from_remote(remote) if remote else None, branch=branch)
