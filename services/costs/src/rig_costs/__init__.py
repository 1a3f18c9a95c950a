"""The costs service: execution logs, prices and roll-ups of every agent run (docs/design.md sections 1, 2)."""
