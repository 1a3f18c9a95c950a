"""What a Claude Code `PostToolUse` call of the Bash tool means to the conductor, if anything.

Claude Code passes the hook one JSON object on stdin: `tool_name`, `tool_input` (for Bash: `command`,
`description`…), `tool_response` (for Bash: `stdout`, `stderr`, `interrupted`…) and `cwd`. A `git push` says
the person is working; a `gh pr create` that printed a PR's URL says they opened that PR.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from typing import Any

# GitHub (or an Enterprise host, or the sandbox) prints the new PR's address: https://host/owner/name/pull/42
_PR_URL = re.compile(r"https?://[^\s/]+/([^\s/]+)/([^\s/]+)/pull/(\d+)\b")
_CLOSING = re.compile(r"\b(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?)\s*:?\s+#(\d+)\b", re.IGNORECASE)
_SEPARATORS = re.compile(r"&&|\|\||[;|&\n]")
# git's global options that take a value as the next word (`git -C dir push`).
_GIT_VALUE_OPTIONS = frozenset({"-C", "-c", "--git-dir", "--work-tree", "--namespace", "--exec-path"})


@dataclass(frozen=True)
class PullRequest:
    """A PR the command opened, read from the URL `gh pr create` printed."""

    repo: str
    number: int
    url: str
    closes: int | None
    """The issue a `Closes #N` in the command names, for branches that do not name one."""


@dataclass(frozen=True)
class ToolUse:
    """The parts of a PostToolUse call the hook needs: the shell command, what it printed, where it ran."""

    command: str
    output: str
    cwd: str | None

    @classmethod
    def from_hook_input(cls, payload: Any) -> ToolUse | None:
        """The Bash call in a hook input, or None for another tool or a shape we do not know."""
        if not isinstance(payload, dict) or payload.get("tool_name") != "Bash":
            return None
        tool_input = payload.get("tool_input")
        command = tool_input.get("command") if isinstance(tool_input, dict) else None
        if not isinstance(command, str):
            return None
        response = payload.get("tool_response")
        if isinstance(response, dict):
            output = "\n".join(str(response.get(name) or "") for name in ("stdout", "stderr"))
        else:
            output = str(response or "")
        cwd = payload.get("cwd")
        return cls(command=command, output=output, cwd=cwd if isinstance(cwd, str) else None)

    def _simple_commands(self) -> list[list[str]]:
        """The words of each simple command in the line (`a && b; c | d`), skipping any shlex cannot split."""
        commands = []
        for part in _SEPARATORS.split(self.command):
            try:
                words = shlex.split(part)
            except ValueError:
                continue
            if words:
                commands.append(words)
        return commands

    def pushed(self) -> bool:
        """Whether the command ran `git push` (global options such as `-C dir` before it allowed)."""
        return any(_git_subcommand(words) == "push" for words in self._simple_commands())

    def opened_pr(self) -> PullRequest | None:
        """The PR a `gh pr create` in the command opened, if its output shows the PR's URL."""
        if not any(words[:1] == ["gh"] and words[1:3] == ["pr", "create"] for words in self._simple_commands()):
            return None
        match = _PR_URL.search(self.output)
        if not match:
            return None
        owner, name, number = match.groups()
        closing = _CLOSING.search(self.command)
        return PullRequest(repo=f"{owner}/{name}", number=int(number), url=match.group(0),
                           closes=int(closing.group(1)) if closing else None)


def _git_subcommand(words: list[str]) -> str | None:
    """The first non-option word after `git` (`git -C x push` → `push`), or None if the words run another program."""
    if not words or words[0].rsplit("/", 1)[-1] != "git":
        return None
    rest = iter(words[1:])
    for word in rest:
        if word in _GIT_VALUE_OPTIONS:
            next(rest, None)
        elif not word.startswith("-"):
            return word
    return None
