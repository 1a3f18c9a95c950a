"""What travels on the bus: an outgoing message and a delivered entry."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from rig_contracts import Envelope, Event, event_from_json
from rig_contracts.entries import EVENT_FIELD


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One entry to append: the event's id (the idempotency key), its stream, its fields and an optional wake list."""

    event_id: str
    stream: str
    fields: Mapping[str, str]
    signal: str | None = None

    @classmethod
    def of(cls, event: Envelope, stream: str, extra: Mapping[str, str] | None = None,
           signal: str | None = None) -> Outgoing:
        """Wrap an event for `stream`, with flat `extra` fields beside the envelope (docs/design.md section 9)."""
        return cls(event.id, stream, {EVENT_FIELD: event.to_json(), **(extra or {})}, signal)


@dataclass(frozen=True, slots=True)
class Delivery:
    """One stream entry handed to a consumer; `deliveries` counts how often it was handed out (1 = first time)."""

    stream: str
    entry_id: str
    fields: Mapping[str, str]
    deliveries: int = 1
    _parsed: list[Event] = field(default_factory=list, compare=False, repr=False)

    @property
    def event(self) -> Event:
        """The entry's event, parsed (and upcast) once; raises if the entry holds no valid event."""
        if not self._parsed:
            raw = self.fields.get(EVENT_FIELD)
            if raw is None:
                raise ValueError(f"entry {self.entry_id} of {self.stream} has no `{EVENT_FIELD}` field")
            self._parsed.append(event_from_json(raw))
        return self._parsed[0]


def decode_fields(raw: Mapping[bytes, bytes] | Mapping[str, str] | Mapping[bytes | str, bytes | str]) -> dict[str, str]:
    """Decode a stream entry's fields from Redis' bytes."""
    return {text(k): text(v) for k, v in raw.items()}


def text(value: object) -> str:
    """A Redis reply value as text (Redis answers bytes)."""
    return value.decode() if isinstance(value, bytes) else str(value)
