"""The merger service (docs/design.md sections 1, 2, 4, 5 and 9): merge exactly what was reviewed, once."""
