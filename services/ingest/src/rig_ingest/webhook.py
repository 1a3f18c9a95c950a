"""What a webhook delivery is to the translation: the delivery, what ingest already knows, what it yields.

Pure: no I/O. Payload access is defensive, since 58 event types arrive in shapes we do not all model; a field
that is missing or of the wrong type reads as absent, never as an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rig_contracts import Envelope

SOURCE = "ingest"
"""The `source` of every event ingest produces."""


def obj(payload: Any, *path: str) -> Mapping[str, Any]:
    """The object at `path` in `payload`, or an empty one."""
    for name in path:
        payload = payload.get(name) if isinstance(payload, Mapping) else None
    return payload if isinstance(payload, Mapping) else {}


def text(payload: Mapping[str, Any], name: str, default: str = "") -> str:
    """The string field `name`, or `default`."""
    value = payload.get(name)
    return value if isinstance(value, str) else default


def number(payload: Mapping[str, Any], name: str) -> int | None:
    """The integer field `name` (bools excluded), or None."""
    value = payload.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@dataclass(frozen=True)
class Delivery:
    """One webhook delivery: GitHub's guid, its `X-GitHub-Event` name and the parsed body."""

    guid: str
    event: str
    payload: Mapping[str, Any]

    @property
    def action(self) -> str | None:
        """The payload's `action`, when it has one."""
        return text(self.payload, "action") or None

    @property
    def repo(self) -> str:
        """`owner/name` of the repository, or "" for events outside one."""
        return text(obj(self.payload, "repository"), "full_name")


@dataclass(frozen=True)
class Wanted:
    """What the translation of a delivery needs to look up: pull requests and head SHAs of one repository."""

    repo: str
    pr_numbers: frozenset[int] = frozenset()
    shas: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Known:
    """What ingest learned from earlier pull request events: PR -> issue it closes, head SHA -> PR."""

    issues: Mapping[int, int | None] = field(default_factory=dict)
    heads: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class PullLink:
    """A pull request's head and the issue it closes (None: none named), to remember for later deliveries."""

    repo: str
    pr_number: int
    issue_number: int | None
    head_sha: str


@dataclass(frozen=True)
class Translation:
    """The events a delivery means and the links to remember."""

    events: tuple[Envelope, ...] = ()
    links: tuple[PullLink, ...] = ()


NOTHING = Translation()
"""A delivery that is stored and otherwise ignored."""


def work_item(repo: str, pr_number: int, known: Known, linked: int | None = None) -> str:
    """The subject of a pull request's events: its issue (remembered, else from its body), else the PR itself."""
    issue = known.issues.get(pr_number) or linked
    return f"{repo}#{issue or pr_number}"
