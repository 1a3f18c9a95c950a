"""The event store service (docs/design.md sections 1 and 4)."""
