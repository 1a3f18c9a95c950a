"""Who may report what (docs/design.md sections 2 and 8): pure rules for events that agents and people post.

Facts about GitHub come only from its webhooks and decisions only from the router and the merger, so an agent
or a person may post only what GitHub cannot see, and only as itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

AGENT_TYPES = frozenset({"WORK_STARTED", "PR_REPORTED", "RUN_STARTED", "RUN_STEP", "RUN_FINISHED", "TOKEN_USAGE",
                         "AGENT_HEARTBEAT", "AGENT_STUCK", "ISSUE_ESCALATED"})
"""What an agent (`agent:<id>`) may post."""

HUMAN_TYPES = frozenset({"WORK_STARTED", "PR_REPORTED", "AGENT_HEARTBEAT", "AGENT_STUCK"})
"""What a person's hook (`human:<login>`) may post."""

SPEAKER_FIELDS: Mapping[str, str] = {"WORK_STARTED": "agent", "PR_REPORTED": "reporter", "RUN_STARTED": "agent",
                                     "TOKEN_USAGE": "agent", "AGENT_HEARTBEAT": "agent", "AGENT_STUCK": "agent"}
"""The field of `data` that names who speaks; it must name the source itself."""


class Refused(Exception):  # noqa: N818 - a refusal, answered with its status
    """A post that is refused: the HTTP status to answer with and what is wrong."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def speaker(source: str) -> str:
    """The id inside a source: `dev-e-node` of `agent:dev-e-node`, `alice` of `human:alice`."""
    return source.partition(":")[2]


def allowed_types(source: str) -> frozenset[str]:
    """The types `source` may post: an agent's, a person's, or none (services post through their outbox)."""
    kind, _, name = source.partition(":")
    if not name:
        return frozenset()
    return {"agent": AGENT_TYPES, "human": HUMAN_TYPES}.get(kind, frozenset())


def check_type(source: str, kind: str) -> None:
    """Refuse (403) a type `source` may not post: GitHub facts, decisions, and anything outside its role."""
    allowed = allowed_types(source)
    if kind not in allowed:
        may = ", ".join(sorted(allowed)) or "nothing: only agent:<id> and human:<login> subjects post events"
        raise Refused(403, f"{source} may not post {kind}: GitHub facts come only from webhooks and decisions only "
                           f"from the router and merger; {source} may post {may}")


def with_speaker(kind: str, data: Mapping[str, Any], source: str) -> dict[str, Any]:
    """`data` with its speaker field filled in from `source` when absent; refused (403) when it names another."""
    filled = dict(data)
    name = SPEAKER_FIELDS.get(kind)
    if name is None:
        return filled
    given = filled.setdefault(name, speaker(source))
    if given != speaker(source):
        raise Refused(403, f"data.{name} is {given!r} but the caller is {source}: a subject may speak only as "
                           "itself")
    return filled
