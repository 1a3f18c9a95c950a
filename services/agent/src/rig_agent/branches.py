"""Where Dev-E may push (docs/design.md section 8, "who moves code"): pure rules, no I/O.

Dev-E names a new item's branch itself (`agent/<N>-<slug>`, see `workspace.branch_name`) and continues an existing
branch only when the assignment's reason says it continues the item's PR (a dispute, a fix after failed checks or
a conflict, a retry of such work). Whatever the assignment says, it never pushes to the default branch or to a
branch outside `agent/<N>-…` for its own issue number N: those runs escalate instead.
"""

from __future__ import annotations

import re

NEW = frozenset({"", "new"})
"""Reasons of first work: Dev-E names the branch and opens the PR (an assignment without a reason is first work)."""

FIXES = frozenset({"changes requested", "conflict", "behind", "checks failed"})
"""Reasons that continue the item's PR on its branch: a dispute, or a fix before merging."""


def continuing(reason: str, branch: str) -> bool:
    """Whether the assignment continues the item's PR (push to its branch, open no PR) rather than starting one.

    Any other reason (a lease that expired, a hand-over to another pool) is a retry: it continues the PR the item
    has (the router then names its branch), else it is first work.
    """
    if reason in FIXES:
        return True
    if reason in NEW:
        return False
    return bool(branch)


def refusal(branch: str, number: int, default_branch: str) -> str | None:
    """Why Dev-E must not push `branch` for issue `number`, or None when it may."""
    if not branch:
        return "the assignment continues a PR but names no branch to push to"
    if branch == default_branch or branch.removeprefix("refs/heads/") == default_branch:
        return f"the assignment names the default branch {branch!r}; Dev-E never pushes to it"
    if not re.fullmatch(rf"agent/{number}(?:-[A-Za-z0-9][A-Za-z0-9._-]*)?", branch) or ".." in branch:
        return f"the assignment names the branch {branch!r}, not one of issue #{number}'s (agent/{number}-…)"
    return None
