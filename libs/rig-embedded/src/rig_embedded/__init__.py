"""Embedded PostgreSQL and Redis under `.rig/`, for a machine that has neither (docs/design.md section 7)."""
