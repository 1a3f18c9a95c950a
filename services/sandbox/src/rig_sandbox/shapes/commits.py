"""Commits, changed files and comparisons in GitHub's shapes."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from rig_sandbox.git.objects import CommitInfo, FileChange, Person
from rig_sandbox.records import Account, Repo
from rig_sandbox.shapes.accounts import simple_user
from rig_sandbox.urls import Urls, node_id

AccountByEmail = Callable[[str], Account | None]
"""Finds the account a commit's e-mail belongs to (GitHub links commits to users by e-mail)."""

_NOREPLY = re.compile(r"^(?:\d+\+)?(?P<login>[^@]+)@users\.noreply\.")


def noreply_email(account: Account) -> str:
    """The `{id}+{login}@users.noreply.github.com` address GitHub gives an account's commits."""
    return f"{account.id}+{account.login}@users.noreply.github.com"


def login_in_email(email: str) -> str | None:
    """The login inside a no-reply address, if it is one."""
    found = _NOREPLY.match(email)
    return found.group("login") if found else None


def git_person(person: Person) -> dict[str, Any]:
    """`git-user`: name, e-mail and date of an author or committer."""
    return {"name": person.name, "email": person.email, "date": _utc(person.date)}


def commit_json(urls: Urls, repo: Repo, commit: CommitInfo, who: AccountByEmail) -> dict[str, Any]:
    """`commit`: a commit with its git data, linked accounts and parents."""
    full = repo.full_name
    author, committer = who(commit.author.email), who(commit.committer.email)
    return {
        "url": urls.repo_api(full, f"/commits/{commit.sha}"), "sha": commit.sha,
        "node_id": node_id("Commit", int(commit.sha[:12], 16)),
        "html_url": urls.repo_html(full, f"/commit/{commit.sha}"),
        "comments_url": urls.repo_api(full, f"/commits/{commit.sha}/comments"),
        "commit": {
            "url": urls.repo_api(full, f"/git/commits/{commit.sha}"), "author": git_person(commit.author),
            "committer": git_person(commit.committer), "message": commit.message, "comment_count": 0,
            "tree": {"sha": commit.tree, "url": urls.repo_api(full, f"/git/trees/{commit.tree}")},
            "verification": {"verified": False, "reason": "unsigned", "signature": None, "payload": None,
                             "verified_at": None},
        },
        "author": simple_user(urls, author) if author else None,
        "committer": simple_user(urls, committer) if committer else None,
        "parents": [{"sha": parent, "url": urls.repo_api(full, f"/commits/{parent}"),
                     "html_url": urls.repo_html(full, f"/commit/{parent}")} for parent in commit.parents],
    }


PATCH_LIMIT_BYTES = 1_000_000
"""A file's diff larger than this comes without `patch`, as GitHub leaves out the patch of very large diffs."""


def file_json(urls: Urls, repo: Repo, change: FileChange, ref: str) -> dict[str, Any]:
    """`diff-entry`: one changed file."""
    full = repo.full_name
    data: dict[str, Any] = {
        "sha": change.sha, "filename": change.filename, "status": change.status, "additions": change.additions,
        "deletions": change.deletions, "changes": change.changes,
        "blob_url": urls.repo_html(full, f"/blob/{ref}/{change.filename}"),
        "raw_url": urls.repo_html(full, f"/raw/{ref}/{change.filename}"),
        "contents_url": urls.repo_api(full, f"/contents/{change.filename}?ref={ref}"),
    }
    if change.patch is not None and len(change.patch.encode()) <= PATCH_LIMIT_BYTES:
        data["patch"] = change.patch  # as on GitHub, none for a binary file or a very large diff
    if change.previous_filename is not None:
        data["previous_filename"] = change.previous_filename
    return data


def compare_json(urls: Urls, repo: Repo, spec: str, base: dict[str, Any], merge_base: dict[str, Any],
                 ahead_by: int, behind_by: int, commits: list[dict[str, Any]],
                 files: list[dict[str, Any]]) -> dict[str, Any]:
    """`commit-comparison`: how `head` relates to `base` (the `spec` is `base...head`)."""
    full = repo.full_name
    status = "identical" if not ahead_by and not behind_by else "ahead" if not behind_by else \
        "behind" if not ahead_by else "diverged"
    return {
        "url": urls.repo_api(full, f"/compare/{spec}"), "html_url": urls.repo_html(full, f"/compare/{spec}"),
        "permalink_url": urls.repo_html(full, f"/compare/{spec}"),
        "diff_url": urls.repo_html(full, f"/compare/{spec}.diff"),
        "patch_url": urls.repo_html(full, f"/compare/{spec}.patch"), "base_commit": base,
        "merge_base_commit": merge_base, "status": status, "ahead_by": ahead_by, "behind_by": behind_by,
        "total_commits": len(commits), "commits": commits, "files": files,
    }


def _utc(date: str) -> str:
    """Git's ISO date (`2024-05-01T12:00:00+00:00`) as GitHub writes it (`…Z`) when it is in UTC."""
    return date.replace("+00:00", "Z") if date.endswith("+00:00") else date
