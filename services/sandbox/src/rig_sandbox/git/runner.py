"""Runs git as asyncio subprocesses, a bounded number at a time, away from the user's own git configuration."""

from __future__ import annotations

import asyncio
import os
import re
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

ZERO_SHA = "0" * 40
"""What git (and GitHub's push payloads) write for "no commit": a created or deleted ref's other side."""


class GitError(RuntimeError):
    """A git command failed in a way its caller did not expect."""


@dataclass(frozen=True, slots=True)
class Completed:
    """What a finished git command returned."""

    code: int
    stdout: bytes
    stderr: bytes

    @property
    def text(self) -> str:
        """Standard output as text, without the final newline."""
        return self.stdout.decode(errors="replace").rstrip("\n")


def git_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment git runs with: no system or global config, no prompts, plus `extra`."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
    env |= {"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_TERMINAL_PROMPT": "0",
            "LC_ALL": "C"}
    return env | dict(extra or {})


_FULL_SHA = re.compile(r"^[0-9a-f]{40}$")


class GitRunner:
    """Runs git commands against one bare repository at a time, at most `limit` at once across the sandbox."""

    def __init__(self, limit: int, remembered: int = 4096) -> None:
        self._slots = asyncio.Semaphore(limit)
        self._pure: OrderedDict[tuple[Path, tuple[str, ...]], Completed] = OrderedDict()
        self._remembered = remembered

    async def run_pure(self, git_dir: Path, *args: str, shas: tuple[str, ...], check: bool = True) -> Completed:
        """`run` for a question about commits only (merge-tree, merge-base, rev-list, diff of two commits).

        When every commit is named by its full SHA the answer can never change (a SHA names immutable objects),
        so it is kept (the latest `remembered` answers) and git runs once per question, the way GitHub keeps
        what it computed about a pull request instead of computing it on every read. Answers of git's own
        failures (exit codes over 1) are not kept.
        """
        if not all(_FULL_SHA.match(sha) for sha in shas):
            return await self.run(git_dir, *args, check=check)
        key = (git_dir, args)
        result = self._pure.get(key)
        if result is None:
            result = await self.run(git_dir, *args, check=False)
            if result.code in (0, 1):
                self._pure[key] = result
                if len(self._pure) > self._remembered:
                    self._pure.popitem(last=False)
        else:
            self._pure.move_to_end(key)
        return _checked(result, args, check)

    async def run(self, git_dir: Path, *args: str, stdin: bytes | None = None,
                  env: Mapping[str, str] | None = None, check: bool = True) -> Completed:
        """Run `git --git-dir=GIT_DIR ARGS`; raise `GitError` on a non-zero exit when `check` is set."""
        async with self._slots:
            process = await asyncio.create_subprocess_exec(
                "git", f"--git-dir={git_dir}", *args,
                stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=git_environment(env))
            stdout, stderr = await process.communicate(stdin)
        return _checked(Completed(process.returncode or 0, stdout, stderr), args, check)

    async def init(self, git_dir: Path, default_branch: str) -> None:
        """Create an empty bare repository whose HEAD names `default_branch`, open to pushes over HTTP."""
        git_dir.parent.mkdir(parents=True, exist_ok=True)
        await self.run(git_dir, "init", "--quiet", "--bare", f"--initial-branch={default_branch}")
        await self.run(git_dir, "config", "http.receivepack", "true")
        await self.run(git_dir, "config", "receive.denyDeleteCurrent", "true")


def _checked(result: Completed, args: tuple[str, ...], check: bool) -> Completed:
    if check and result.code != 0:
        raise GitError(f"git {' '.join(args[:3])} failed ({result.code}): {result.stderr.decode(errors='replace')}")
    return result
