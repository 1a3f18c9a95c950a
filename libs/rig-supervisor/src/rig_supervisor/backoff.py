"""Restart delays: doubling from half a second to half a minute, reset after a minute of good health."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Backoff:
    """The delay before the next restart of one child."""

    first_s: float = 0.5
    max_s: float = 30.0
    healthy_after_s: float = 60.0
    current_s: float = 0.0

    def next_delay(self, ran_for_s: float) -> float:
        """The delay before restarting a child that ran for `ran_for_s` seconds."""
        if ran_for_s >= self.healthy_after_s or self.current_s == 0:
            self.current_s = self.first_s
        else:
            self.current_s = min(self.current_s * 2, self.max_s)
        return self.current_s
