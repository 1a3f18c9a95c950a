"""GitHub's closing keywords: `Closes #1`, `fixes owner/repo#2`, `Resolved #3` in a pull request's body."""

from __future__ import annotations

import re
from dataclasses import dataclass

_KEYWORD = re.compile(
    r"(?<![\w-])(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?)\s*:?\s+"
    r"(?:(?P<owner>[A-Za-z0-9_.-]+)/(?P<repo>[A-Za-z0-9_.-]+))?#(?P<number>\d+)\b",
    re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ClosingReference:
    """An issue a merged pull request closes: in the same repository when `owner`/`repo` are None."""

    number: int
    owner: str | None = None
    repo: str | None = None


def closing_references(text: str | None) -> list[ClosingReference]:
    """The issues `text` says it closes, each once, in the order named."""
    found: list[ClosingReference] = []
    for match in _KEYWORD.finditer(text or ""):
        reference = ClosingReference(int(match["number"]), match["owner"], match["repo"])
        if reference not in found:
            found.append(reference)
    return found
