"""One unit of work as an agent receives it: a stream entry with our envelope and the public runtime's flat fields."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from rig_contracts import Event, event_from_json
from rig_contracts.entries import EVENT_FIELD


@dataclass(frozen=True, slots=True)
class Assignment:
    """An entry of `assignments:{agent}`, read by this agent (the router wrote it)."""

    entry_id: str
    fields: Mapping[str, str]
    deliveries: int = 1
    """How often the entry was handed out, this time included (XPENDING counts)."""

    @property
    def event(self) -> Event | None:
        """The router's decision (`ISSUE_ASSIGNED`, `REVIEW_ASSIGNED`, …), None for an entry without our envelope."""
        raw = self.fields.get(EVENT_FIELD)
        return event_from_json(raw) if raw else None

    @property
    def repo(self) -> str:
        """`owner/name`."""
        return self.fields.get("repo", "")

    @property
    def number(self) -> int:
        """The issue number (for review-e, the PR number); 0 when the entry names none."""
        value = self.fields.get("issueNumber", "")
        return int(value) if value.isdigit() else 0

    @property
    def subject(self) -> str:
        """The work item this is about, `owner/repo#N` (the envelope's subject when it carries one)."""
        event = self.event
        return event.subject if event is not None else f"{self.repo}#{self.number}"

    @property
    def tools(self) -> tuple[str, ...]:
        """Extra tools from `.rig-agent.yaml`."""
        return tuple(t.strip() for t in self.fields.get("tools", "").split(",") if t.strip())

    def field(self, name: str) -> str:
        """A flat field (`title`, `body`, `stack`, `testCommand`, `buildCommand`, `branch`, `feedback`…), or ""."""
        return self.fields.get(name, "")
