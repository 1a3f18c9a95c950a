"""Turns git's raw, numstat and patch diff output into GitHub's list of changed files."""

from __future__ import annotations

from rig_sandbox.git.objects import FileChange, FileStatus
from rig_sandbox.git.runner import ZERO_SHA

_STATUS: dict[str, FileStatus] = {"A": "added", "D": "removed", "M": "modified", "R": "renamed", "C": "copied",
                                  "T": "changed"}


def parse_changes(raw: bytes, numstat: bytes, patch: bytes) -> list[FileChange]:
    """Combine `git diff --raw -z`, `--numstat -z` and the plain patch (all with the same options) per file."""
    counts = count_lines(numstat)
    patches = _patches(patch)
    changes = []
    for index, (status, old_sha, new_sha, path, previous) in enumerate(_raw(raw)):
        additions, deletions = counts[index] if index < len(counts) else (0, 0)
        changes.append(FileChange(
            filename=path, status=status, additions=additions, deletions=deletions,
            sha=new_sha if new_sha != ZERO_SHA else old_sha,
            patch=patches[index] if index < len(patches) else None, previous_filename=previous))
    return changes


def _raw(raw: bytes) -> list[tuple[FileStatus, str, str, str, str | None]]:
    parts = raw.decode(errors="replace").split("\0")
    found: list[tuple[FileStatus, str, str, str, str | None]] = []
    index = 0
    while index < len(parts) and parts[index].startswith(":"):
        _old_mode, _new_mode, old_sha, new_sha, letter = parts[index][1:].split()
        status = _STATUS.get(letter[0], "modified")
        if letter[0] in "RC":
            found.append((status, old_sha, new_sha, parts[index + 2], parts[index + 1]))
            index += 3
        else:
            found.append((status, old_sha, new_sha, parts[index + 1], None))
            index += 2
    return found


def count_lines(numstat: bytes) -> list[tuple[int, int]]:
    """Lines added and deleted per file, from `git diff --numstat -z` (binary files count 0)."""
    parts = numstat.decode(errors="replace").split("\0")
    counts = []
    index = 0
    while index < len(parts) and parts[index]:
        added, deleted, path = parts[index].split("\t", 2)
        counts.append((int(added) if added.isdigit() else 0, int(deleted) if deleted.isdigit() else 0))
        index += 3 if path == "" else 1  # a rename names the old and the new path in the next two fields
    return counts


def _patches(patch: bytes) -> list[str | None]:
    sections: list[list[str]] = []
    for line in patch.decode(errors="replace").splitlines():
        if line.startswith("diff --git "):
            sections.append([])
        elif sections:
            sections[-1].append(line)
    patches: list[str | None] = []
    for lines in sections:
        start = next((i for i, line in enumerate(lines) if line.startswith("@@")), None)
        patches.append("\n".join(lines[start:]) if start is not None else None)
    return patches
