"""A work item's checkout (Dev-E): clone, branch, commit, push with an installation token kept out of argv and logs."""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

AUTHOR = ("rig-conductor dev-e", "dev-e@rig-conductor.invalid")

SAFE_GIT = ("-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false", "-c", "credential.helper=",
            "-c", "core.pager=cat", "-c", "protocol.ext.allow=never", "-c", "protocol.file.allow=never")
"""Prepended to every git command: the checkout's workloads may have written into the tree, so no hook,
fsmonitor, credential helper, pager or `ext::` transport ever runs (the workloads' sandbox keeps `.git` itself
read-only, so they cannot plant config there either)."""


class GitError(RuntimeError):
    """A git command failed; the message holds its output (with no token in it)."""


def drop_nested_repositories(root: Path) -> None:
    """Delete every `.git` inside the tree but the checkout's own, before git looks at the tree.

    A workload may leave a repository of its own in the workspace (its config naming filters, an fsmonitor or a
    pager); once added as a submodule, `git status` would run git inside it with that config. Its files are
    committed as plain files instead.
    """
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        if here == root:
            dirs[:] = [d for d in dirs if d != ".git"]  # the checkout's own
            continue
        if ".git" in dirs:
            dirs.remove(".git")
            nested = here / ".git"
            if nested.is_symlink():
                nested.unlink()
            else:
                shutil.rmtree(nested)
        elif ".git" in files:
            (here / ".git").unlink()
        else:
            continue
        log.warning("removed the nested repository at %s before committing", here.relative_to(root))


def branch_name(number: int, title: str) -> str:
    """`agent/<issue>-<slug>`: the branch Dev-E works on for a new item."""
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:40].rstrip("-")
    return f"agent/{number}-{slug}" if slug else f"agent/{number}"


@dataclass(frozen=True)
class Workspace:
    """A clone of one repository in `path`, authenticated by `token` for fetch and push."""

    path: Path
    token: str

    def _env(self) -> dict[str, str]:
        basic = base64.b64encode(f"x-access-token:{self.token}".encode()).decode()
        name, email = AUTHOR
        # The header travels in the environment (GIT_CONFIG_*), never in a command line another user could see.
        # Nothing else of ours does: no settings, keys or model credentials, no user or system git config.
        clean = {key: os.environ[key] for key in ("PATH", "LANG", "LC_ALL", "TZ") if key in os.environ}
        return {**clean, "HOME": os.devnull, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
                "GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "http.extraHeader",
                "GIT_CONFIG_VALUE_0": f"Authorization: Basic {basic}", "GIT_TERMINAL_PROMPT": "0",
                "GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email, "GIT_COMMITTER_NAME": name,
                "GIT_COMMITTER_EMAIL": email}

    async def git(self, *args: str, cwd: Path | None = None) -> str:
        """Run one git command; its stdout, or GitError with its output."""
        process = await asyncio.create_subprocess_exec(
            "git", *SAFE_GIT, *args, cwd=cwd or self.path, env=self._env(), stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT)
        output, _ = await process.communicate()
        text = output.decode(errors="replace").replace(self.token, "***")
        if process.returncode != 0:
            raise GitError(f"git {args[0]} failed ({process.returncode}): {text.strip()[-2000:]}")
        return text

    async def clone(self, url: str, branch: str | None = None) -> None:
        """Clone `url` into the workspace; check out `branch` (an existing PR branch) when given."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        await self.git("clone", "--quiet", url, str(self.path), cwd=self.path.parent)
        if branch:
            await self.git("checkout", "--quiet", branch)

    async def start_branch(self, branch: str) -> None:
        """Create and check out `branch` from the default branch."""
        await self.git("checkout", "--quiet", "-b", branch)

    async def commit_all(self, message: str) -> str | None:
        """Commit every change; the new head SHA, or None when there was nothing to commit."""
        drop_nested_repositories(self.path)
        await self.git("add", "--all")
        if not (await self.git("status", "--porcelain")).strip():
            return None
        await self.git("commit", "--quiet", "-m", message)
        return (await self.git("rev-parse", "HEAD")).strip()

    async def push(self, branch: str, expected: str) -> None:
        """Push HEAD to `branch` on origin only if the branch is still at `expected` ("": does not exist yet).

        The lease makes the server refuse the update when anyone else pushed meanwhile (GitError), so a push
        never overwrites someone else's.
        """
        ref = f"refs/heads/{branch}"
        await self.git("push", "--quiet", f"--force-with-lease={ref}:{expected}", "origin", f"HEAD:{ref}")

    async def head(self) -> str:
        """The checked-out commit."""
        return (await self.git("rev-parse", "HEAD")).strip()
