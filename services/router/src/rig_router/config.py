"""Reading `.rig-agent.yaml` (docs/design.md section 6): parse, validate against the published schema, make a policy.

Pure: text in, a `RepoConfig` or the list of what is wrong out; the router fetches the text from GitHub.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from rig_router.config_schema import SCHEMA, STACKS
from rig_workflow import Policy

MACOS_TAG = "requires-macos"
"""An `escalate` entry containing this goes to ibuild-e instead of people."""

_VALIDATOR = Draft202012Validator(SCHEMA)
_ANNOTATION = re.compile(r"\s*\([^)]*\)\s*$")


@dataclass(frozen=True, slots=True)
class RepoConfig:
    """A valid `.rig-agent.yaml` (defaults filled in); a repository without the file gets `RepoConfig()`."""

    stack: str = "base"
    tools: tuple[str, ...] = ()
    test_command: str = ""
    build_command: str = ""
    escalate: tuple[str, ...] = ()
    max_review_rounds: int = 3
    max_fix_attempts: int = 3
    budget: Mapping[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The config as stored in the cache (the file's own key names)."""
        return {"stack": self.stack, "tools": list(self.tools), "testCommand": self.test_command,
                "buildCommand": self.build_command, "escalate": list(self.escalate),
                "maxReviewRounds": self.max_review_rounds, "maxFixAttempts": self.max_fix_attempts,
                "budget": dict(self.budget)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RepoConfig:
        """A config from the file's (validated) key names, defaults for the keys left out."""
        return cls(stack=data.get("stack", "base"), tools=tuple(data.get("tools", ())),
                   test_command=data.get("testCommand", ""), build_command=data.get("buildCommand", ""),
                   escalate=tuple(data.get("escalate", ())), max_review_rounds=data.get("maxReviewRounds", 3),
                   max_fix_attempts=data.get("maxFixAttempts", 3), budget=dict(data.get("budget", {})))


@dataclass(frozen=True, slots=True)
class ConfigReading:
    """What reading the file gave: the config when valid, else what is wrong (one line per problem)."""

    config: RepoConfig | None
    problems: tuple[str, ...] = ()
    sha: str = ""
    """The blob SHA the reading is of ('' when the file does not exist)."""


def parse(text: str, path: str = ".rig-agent.yaml") -> ConfigReading:
    """Parse and validate the file's text; every problem is said with where it is and how to fix it."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        where = getattr(error, "problem_mark", None)
        at = f" at line {where.line + 1}, column {where.column + 1}" if where is not None else ""
        problem = getattr(error, "problem", None) or str(error)
        return ConfigReading(None, (f"`{path}` is not valid YAML{at}: {problem}.",))
    if data is None:
        return ConfigReading(RepoConfig())
    if not isinstance(data, dict):
        return ConfigReading(None, (f"`{path}` must be a mapping of keys (like `stack: node`), "
                                    f"not a {type(data).__name__}.",))
    errors = sorted(_VALIDATOR.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        return ConfigReading(None, tuple(_explain(error) for error in errors))
    return ConfigReading(RepoConfig.from_json(data))


def _explain(error: ValidationError) -> str:
    """One problem in words: where, what, and how to fix it."""
    where = ".".join(str(p) for p in error.absolute_path) or "(top level)"
    if error.validator == "additionalProperties" and isinstance(error.schema, Mapping):
        allowed = list(error.schema.get("properties", {}))
        known = ", ".join(f"`{k}`" for k in allowed)
        given = error.instance if isinstance(error.instance, Mapping) else {}
        names = ", ".join(f"`{k}`" for k in sorted(set(given) - set(allowed)))
        return f"{where}: unknown key {names}; the keys allowed here are {known}."
    if error.validator == "enum" and error.absolute_path and error.absolute_path[-1] == "stack":
        return f"`stack`: {error.instance!r} is not a stack we have agents for; use one of {', '.join(STACKS)}."
    return f"`{where}`: {error.message}."


def matched_escalations(phrases: Iterable[str], title: str, body: str, labels: Iterable[str]) -> list[str]:
    """The `escalate` entries that the issue matches: case-insensitively in its title, body or a label.

    An entry's trailing annotation in parentheses, as in `needs Xcode (requires-macos)`, is not part of the
    phrase looked for; the whole entry matches too.
    """
    haystacks = [title.lower(), body.lower(), *(label.lower() for label in labels)]
    matched = []
    for entry in phrases:
        wanted = {entry.strip().lower(), _ANNOTATION.sub("", entry).strip().lower()} - {""}
        if any(phrase in text for phrase in wanted for text in haystacks):
            matched.append(entry)
    return matched


def policy_for(reading: ConfigReading, title: str, body: str, labels: Iterable[str], *,
               path: str = ".rig-agent.yaml") -> Policy:
    """The state machine's policy for an approved issue: blocked, escalated, to ibuild-e, or to its stack's pool."""
    if reading.config is None:
        return Policy(config_error=f"`{path}` is invalid: " + " ".join(reading.problems))
    config = reading.config
    matched = matched_escalations(config.escalate, title, body, labels)
    macos = [entry for entry in matched if MACOS_TAG in entry.lower()]
    people = [entry for entry in matched if MACOS_TAG not in entry.lower()]
    escalation = ("the issue matches escalate entries " + ", ".join(f"“{e}”" for e in people)) if people else None
    return Policy(stack=config.stack, max_review_rounds=config.max_review_rounds,
                  max_fix_attempts=config.max_fix_attempts, requires_macos=bool(macos), escalation=escalation,
                  issue_budget_usd=config.budget.get("perIssueUsd"), day_budget_usd=config.budget.get("perDayUsd"))
