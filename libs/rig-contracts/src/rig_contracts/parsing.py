"""Reading events off the wire: pick the class by `type`, upcast an old `data` shape, validate."""

from __future__ import annotations

import json
from typing import Any

from pydantic import TypeAdapter

from rig_contracts.catalogue import EVENT_TYPES, Event
from rig_contracts.upcasting import upcast

CURRENT_VERSIONS: dict[str, int] = {name: int(cls.model_fields["v"].default) for name, cls in EVENT_TYPES.items()}
"""The version each type is written at today."""

_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)


class UnknownEventType(ValueError):  # noqa: N818 - the name consumers catch; kept stable
    """Raised for a `type` this code does not know (written by a newer producer, or not an event at all)."""


def parse_event(raw: dict[str, Any]) -> Event:
    """Validate a decoded event, upcasting an old `data` shape to the current version first.

    Raises `UnknownEventType` for a type missing from the catalogue, `EventVersionError` for a version
    this code cannot read, and pydantic's `ValidationError` (a `ValueError`) for a malformed event.
    """
    kind = raw.get("type")
    if not isinstance(kind, str) or kind not in EVENT_TYPES:
        raise UnknownEventType(
            f"unknown event type {kind!r} (event id {raw.get('id')!r}): this code knows {len(EVENT_TYPES)} types; "
            "upgrade this service if a newer producer wrote it, else dead-letter the entry"
        )
    return _ADAPTER.validate_python(upcast(raw, CURRENT_VERSIONS[kind]))


def event_from_json(text: str | bytes) -> Event:
    """Parse an event from its JSON text on the wire."""
    decoded = json.loads(text)
    if not isinstance(decoded, dict):
        # A ValueError like every other malformed event, so callers need to catch one kind of error.
        raise ValueError(f"an event must be a JSON object, got {type(decoded).__name__}")  # noqa: TRY004
    return parse_event(decoded)
