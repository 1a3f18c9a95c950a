"""Embedded PostgreSQL and Redis under `.rig/`, for a machine that has neither (DESIGN.md section 7)."""
