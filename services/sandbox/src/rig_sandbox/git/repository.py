"""One bare repository on disk, read and written with git plumbing (never a work tree)."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path

from rig_sandbox.git.diffs import count_lines, parse_changes
from rig_sandbox.git.objects import CommitInfo, FileChange, MergeResult, Person, TreeEntry
from rig_sandbox.git.runner import ZERO_SHA, GitError, GitRunner

_FIELD, _RECORD = "\x1f", "\x1e"
_LOG_FORMAT = _FIELD.join(["%H", "%T", "%P", "%an", "%ae", "%aI", "%cn", "%ce", "%cI", "%B"]) + _RECORD
_ENTRY_TYPES = {"blob": "file", "tree": "dir", "commit": "submodule"}


def safe_rev(rev: str) -> bool:
    """Whether `rev` may be handed to git as a revision (no options, no ranges, no control characters)."""
    return bool(rev) and not rev.startswith("-") and ".." not in rev and all(c >= " " and c != "\x7f" for c in rev) \
        and " " not in rev and ":" not in rev


def identity_env(author: Person, committer: Person) -> dict[str, str]:
    """The environment that makes git write `author` and `committer` into a commit."""
    env = {"GIT_AUTHOR_NAME": author.name, "GIT_AUTHOR_EMAIL": author.email,
           "GIT_COMMITTER_NAME": committer.name, "GIT_COMMITTER_EMAIL": committer.email}
    if author.date:
        env["GIT_AUTHOR_DATE"] = author.date
    if committer.date:
        env["GIT_COMMITTER_DATE"] = committer.date
    return env


class GitRepository:
    """A bare repository at `path`, driven through a shared `GitRunner`."""

    def __init__(self, path: Path, runner: GitRunner) -> None:
        self.path = path
        self._git = runner

    async def resolve(self, rev: str) -> str | None:
        """The commit `rev` (a sha, branch, tag or full ref) names, or None."""
        if not safe_rev(rev):
            return None
        result = await self._git.run(self.path, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", check=False)
        return result.text if result.code == 0 else None

    async def branch_sha(self, branch: str) -> str | None:
        """The tip of branch `branch`, or None when there is no such branch."""
        return await self.resolve(f"refs/heads/{branch}")

    async def refs(self) -> dict[str, str]:
        """Every ref and the object it points at."""
        result = await self._git.run(self.path, "for-each-ref", "--format=%(objectname) %(refname)")
        pairs = (line.split(" ", 1) for line in result.text.splitlines() if line)
        return {name: sha for sha, name in pairs}

    async def update_ref(self, ref: str, new: str, old: str | None) -> bool:
        """Point `ref` at `new` if it still points at `old` (None: must not exist); False when it moved."""
        result = await self._git.run(self.path, "update-ref", ref, new, old or ZERO_SHA, check=False)
        return result.code == 0

    async def commit(self, sha: str) -> CommitInfo:
        """The commit `sha`."""
        found = await self._log(["-1", sha])
        if not found:
            raise GitError(f"no commit {sha}")
        return found[0]

    async def commits_between(self, base: str, head: str) -> list[CommitInfo]:
        """Commits reachable from `head` but not `base`, oldest first (a pull request's commits)."""
        return await self._log(["--reverse", "--topo-order", f"{base}..{head}"])

    async def commits_only_in(self, head: str, others: list[str]) -> list[CommitInfo]:
        """Commits reachable from `head` but from none of the refs `others`, oldest first."""
        return await self._log(["--reverse", "--topo-order", head, "--not", *others])

    async def count_between(self, base: str, head: str) -> int:
        """How many commits `head` has that `base` lacks."""
        result = await self._git.run_pure(self.path, "rev-list", "--count", f"{base}..{head}", shas=(base, head))
        return int(result.text or 0)

    async def merge_base(self, first: str, second: str) -> str | None:
        """The best common ancestor of two commits, or None when they share none."""
        result = await self._git.run_pure(self.path, "merge-base", first, second, shas=(first, second), check=False)
        return result.text if result.code == 0 else None

    async def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        """Whether `ancestor` is reachable from `descendant` (a commit counts as its own ancestor)."""
        result = await self._git.run_pure(self.path, "merge-base", "--is-ancestor", ancestor, descendant,
                                          shas=(ancestor, descendant), check=False)
        return result.code == 0

    async def changes(self, base: str, head: str) -> list[FileChange]:
        """Files changed from `base` to `head` with line counts, blob shas and patches."""
        raw = await self._git.run(self.path, "diff", "--raw", "-z", "-M", "--abbrev=40", base, head)
        numstat = await self._git.run(self.path, "diff", "--numstat", "-z", "-M", base, head)
        patch = await self._git.run(self.path, "diff", "-M", "--no-color", "--no-ext-diff", base, head)
        return parse_changes(raw.stdout, numstat.stdout, patch.stdout)

    async def stats(self, base: str, head: str) -> tuple[int, int, int]:
        """Files changed, lines added and lines deleted from `base` to `head` (one `git diff --numstat`)."""
        result = await self._git.run_pure(self.path, "diff", "--numstat", "-z", "-M", base, head, shas=(base, head))
        counts = count_lines(result.stdout)
        return len(counts), sum(added for added, _ in counts), sum(deleted for _, deleted in counts)

    async def touched(self, sha: str) -> tuple[list[str], list[str], list[str]]:
        """Paths a commit added, removed and modified (against its first parent), as push payloads list them."""
        result = await self._git.run(self.path, "diff-tree", "-r", "--no-commit-id", "--name-status", "-z", "--root",
                                     sha)
        parts = result.stdout.decode(errors="replace").split("\0")
        lists: dict[str, list[str]] = {"A": [], "D": [], "M": []}
        for letter, path in zip(parts[::2], parts[1::2], strict=False):
            lists.get(letter[:1], lists["M"]).append(path)
        return lists["A"], lists["D"], lists["M"]

    async def merge(self, base: str, head: str) -> MergeResult:
        """Merge `head` into `base` in memory (`git merge-tree --write-tree`): the tree, or a conflict."""
        result = await self._git.run_pure(self.path, "merge-tree", "--write-tree", "--no-messages", "--name-only",
                                          base, head, shas=(base, head), check=False)
        if result.code not in (0, 1):
            raise GitError(f"git merge-tree failed ({result.code}): {result.stderr.decode(errors='replace')}")
        return MergeResult(tree=result.text.splitlines()[0], conflicted=result.code == 1)

    async def commit_tree(self, tree: str, parents: list[str], message: str, author: Person,
                          committer: Person) -> str:
        """Write a commit of `tree` with `parents` (no ref moves)."""
        args = ["commit-tree", tree]
        for parent in parents:
            args += ["-p", parent]
        result = await self._git.run(self.path, *args, stdin=message.encode(), env=identity_env(author, committer))
        return result.text

    async def write_files(self, parent: str | None, files: Mapping[str, bytes | None], message: str,
                          author: Person, committer: Person, executable: frozenset[str] = frozenset()) -> str:
        """Write a commit on top of `parent` that sets each file to its bytes (None deletes it); return its sha."""
        with tempfile.TemporaryDirectory(prefix="rig-sandbox-") as folder:
            index = {"GIT_INDEX_FILE": str(Path(folder) / "index")}
            if parent:
                await self._git.run(self.path, "read-tree", parent, env=index)
            written = {path: content for path, content in files.items() if content is not None}
            paths = []
            for number, content in enumerate(written.values()):
                blob_file = Path(folder) / f"blob-{number}"
                blob_file.write_bytes(content)
                paths.append(str(blob_file))
            hashed = await self._git.run(self.path, "hash-object", "-w", "--stdin-paths",
                                         stdin="".join(f"{p}\n" for p in paths).encode())
            lines = [f"{'100755' if path in executable else '100644'} {sha}\t{path}"
                     for path, sha in zip(written, hashed.text.splitlines(), strict=True)]
            lines += [f"0 {ZERO_SHA}\t{path}" for path, content in files.items() if content is None]
            await self._git.run(self.path, "update-index", "-z", "--index-info",
                                stdin="".join(f"{line}\0" for line in lines).encode(), env=index)
            tree = (await self._git.run(self.path, "write-tree", env=index)).text
        return await self.commit_tree(tree, [parent] if parent else [], message, author, committer)

    async def entry(self, rev: str, path: str) -> TreeEntry | None:
        """The tree entry at `path` in commit `rev` (the root folder for an empty path), or None."""
        if not path:
            return TreeEntry(path="", type="dir", sha=await self._tree_of(rev), size=0)
        entries = await self._ls_tree(rev, path)
        return entries[0] if entries and entries[0].path == path else None

    async def listing(self, rev: str, path: str) -> list[TreeEntry]:
        """The entries of the folder `path` in commit `rev`."""
        return await self._ls_tree(rev, f"{path.rstrip('/')}/" if path else "")

    async def blob(self, sha: str) -> bytes:
        """The bytes of blob `sha`."""
        return (await self._git.run(self.path, "cat-file", "blob", sha)).stdout

    async def _tree_of(self, rev: str) -> str:
        return (await self._git.run(self.path, "rev-parse", f"{rev}^{{tree}}")).text

    async def _ls_tree(self, rev: str, path: str) -> list[TreeEntry]:
        args = ["ls-tree", "-z", "--long", rev]
        if path:
            args += ["--", path]
        result = await self._git.run(self.path, *args, check=False)
        entries = []
        for record in result.stdout.decode(errors="replace").split("\0"):
            if not record:
                continue
            meta, name = record.split("\t", 1)
            mode, kind, sha, size = meta.split()
            entry_type = "symlink" if mode == "120000" else _ENTRY_TYPES.get(kind, "file")
            entries.append(TreeEntry(path=name, type=entry_type, sha=sha,  # type: ignore[arg-type]
                                     size=int(size) if size.isdigit() else 0))
        return entries

    async def _log(self, args: list[str]) -> list[CommitInfo]:
        result = await self._git.run(self.path, "log", f"--format={_LOG_FORMAT}", *args, "--")
        commits = []
        for record in result.stdout.decode(errors="replace").split(_RECORD):
            fields = record.lstrip("\n").split(_FIELD)
            if len(fields) < 10:
                continue
            sha, tree, parents, a_name, a_mail, a_date, c_name, c_mail, c_date, message = fields
            commits.append(CommitInfo(sha=sha, tree=tree, parents=tuple(parents.split()),
                                      author=Person(a_name, a_mail, a_date), committer=Person(c_name, c_mail, c_date),
                                      message=message.rstrip("\n")))
        return commits

