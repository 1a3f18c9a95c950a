"""Named fault points: a setting makes the process exit at one, so tests can kill it between two steps."""

from __future__ import annotations

import logging
import os
import sys

log = logging.getLogger(__name__)

FAULT_EXIT_STATUS = 137
"""The status a killed (-9) process reports, so supervisors treat both alike."""


class FaultPoints:
    """Exits the process when the configured point is reached; does nothing otherwise."""

    def __init__(self, armed: str | None = None) -> None:
        self.armed = armed or None

    def reach(self, name: str) -> None:
        """Mark that execution reached `name`; exit at once if it is the armed point."""
        if self.armed == name:
            log.warning("fault point %s reached: exiting with %d", name, FAULT_EXIT_STATUS)
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(FAULT_EXIT_STATUS)


NO_FAULTS = FaultPoints()
"""Fault points that never fire (the default everywhere outside tests)."""
