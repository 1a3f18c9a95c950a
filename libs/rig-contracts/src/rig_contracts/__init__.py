"""Event contracts shared by every rig-conductor service (docs/design.md section 2)."""

from rig_contracts.catalogue import EVENT_TYPES, Event
from rig_contracts.envelope import Envelope, new_event_id
from rig_contracts.names import Names
from rig_contracts.parsing import UnknownEventType, event_from_json, parse_event
from rig_contracts.upcasting import EventVersionError

__all__ = [
    "EVENT_TYPES",
    "Envelope",
    "Event",
    "EventVersionError",
    "Names",
    "UnknownEventType",
    "event_from_json",
    "new_event_id",
    "parse_event",
]
