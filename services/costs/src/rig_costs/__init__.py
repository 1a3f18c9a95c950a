"""The costs service: execution logs, prices and roll-ups of every agent run (DESIGN.md sections 1, 2)."""
