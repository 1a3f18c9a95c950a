"""Closing keywords: which issue a pull request's body says it closes (GitHub's nine keywords, any case)."""

from __future__ import annotations

import re

CLOSING = re.compile(
    r"(?<![\w-])(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?):?\s+"
    r"(?:(?P<repo>[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+))?#(?P<number>\d+)\b",
    re.IGNORECASE,
)
"""`close, closes, closed, fix, fixes, fixed, resolve, resolves, resolved`, then `#N` or `owner/repo#N`."""


def closed_issue(body: str | None, repo: str) -> int | None:
    """The first issue of `repo` that `body` closes with a keyword; other repositories' issues are skipped."""
    for match in CLOSING.finditer(body or ""):
        named = match["repo"]
        number = int(match["number"])
        if number >= 1 and (named is None or named.lower() == repo.lower()):
            return number
    return None
