"""What git tells about commits, trees and diffs, as small frozen records."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True, slots=True)
class Person:
    """An author or committer of a commit: name, e-mail and ISO-8601 date."""

    name: str
    email: str
    date: str = ""


@dataclass(frozen=True, slots=True)
class CommitInfo:
    """One commit."""

    sha: str
    tree: str
    parents: tuple[str, ...]
    author: Person
    committer: Person
    message: str


FileStatus = Literal["added", "removed", "modified", "renamed", "copied", "changed", "unchanged"]


@dataclass(frozen=True, slots=True)
class FileChange:
    """One file changed between two commits, as GitHub lists it in compare and pull request files."""

    filename: str
    status: FileStatus
    additions: int
    deletions: int
    sha: str
    patch: str | None
    previous_filename: str | None = None

    @property
    def changes(self) -> int:
        """Lines added plus lines deleted."""
        return self.additions + self.deletions


@dataclass(frozen=True, slots=True)
class TreeEntry:
    """One entry of a tree: a file, a folder, a symlink or a submodule."""

    path: str
    type: Literal["file", "dir", "symlink", "submodule"]
    sha: str
    size: int

    @property
    def name(self) -> str:
        """The last part of the path."""
        return self.path.rsplit("/", 1)[-1]


@dataclass(frozen=True, slots=True)
class MergeResult:
    """What merging two commits would give: the merged tree, or a conflict."""

    tree: str
    conflicted: bool
