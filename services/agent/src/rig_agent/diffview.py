"""What Review-E shows the model of a change, and what it could not show (pure: no I/O).

A review may approve only what the model saw. GitHub gives no patch for binary files and very large diffs,
lists at most 300 files in a comparison, and a prompt has a size budget: every file left out for any of these
reasons is named, and the change is then never approved on the model's word alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

COMPARE_FILE_CAP = 300
"""GitHub's compare API lists at most this many files: a change this wide may hold files nobody saw."""


class FileDiff(Protocol):
    """One changed file as GitHub lists it (rig_github's ChangedFile)."""

    @property
    def filename(self) -> str:
        """Path in the repository."""

    @property
    def status(self) -> str:
        """How the file changed: added, modified, removed, renamed and so on."""

    @property
    def patch(self) -> str:
        """The unified diff, empty when GitHub gives none."""


@dataclass(frozen=True, slots=True)
class DiffView:
    """The diff text for the prompt and the files the model was not shown (with why)."""

    text: str
    without_patch: tuple[str, ...] = ()
    """Files GitHub gives no patch for (binary, too large): their content is unseen."""
    cut: tuple[str, ...] = ()
    """Files left out because the diff did not fit the prompt's budget."""
    maybe_more: bool = False
    """GitHub listed as many files as it ever does: there may be more, unlisted."""

    @property
    def unseen(self) -> tuple[str, ...]:
        """Every file whose change the model did not see."""
        return self.without_patch + self.cut

    @property
    def complete(self) -> bool:
        """Whether the model saw the whole change (only then may its approval stand)."""
        return not self.unseen and not self.maybe_more

    def notes(self) -> str:
        """What to tell the model (and the PR) about what is missing; empty when nothing is."""
        parts = []
        if self.without_patch:
            parts.append("GitHub gives no diff for these files (binary or too large), so their content is not shown: "
                         + ", ".join(self.without_patch) + ".")
        if self.cut:
            parts.append("The diff was cut to fit: these files' changes are not shown: " + ", ".join(self.cut) + ".")
        if self.maybe_more:
            parts.append(f"GitHub lists at most {COMPARE_FILE_CAP} files of a change: more may have changed unseen.")
        return " ".join(parts)


def diff_view(files: Sequence[FileDiff], limit: int) -> DiffView:
    """The files' patches, whole files in order while they fit in `limit` characters; the rest named as unseen."""
    sections: list[str] = []
    used = 0
    without_patch: list[str] = []
    cut: list[str] = []
    for file in files:
        if not file.patch:
            without_patch.append(file.filename)
            sections.append(f"--- {file.filename} ({file.status}): no diff available, content not shown")
            continue
        section = f"--- {file.filename} ({file.status})\n{file.patch}"
        if used + len(section) > limit:
            cut.append(file.filename)
            continue
        sections.append(section)
        used += len(section) + 1
    return DiffView("\n".join(sections), tuple(without_patch), tuple(cut), len(files) >= COMPARE_FILE_CAP)
