"""Event contracts shared by every rig-conductor service (DESIGN.md section 2)."""

from rig_contracts.envelope import Envelope, new_event_id
from rig_contracts.catalogue import Event, EVENT_TYPES, parse_event, event_from_json
from rig_contracts.names import Names

__all__ = ["EVENT_TYPES", "Envelope", "Event", "Names", "event_from_json", "new_event_id", "parse_event"]
