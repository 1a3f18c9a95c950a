"""The event store service (DESIGN.md sections 1 and 4)."""
