"""Seeded delivery chaos: which emitted event is late, overtaken, duplicated or dropped.

Real GitHub is not tidy, and the conductor must cope. The decisions here are a pure function of the seed and
of the position of an event in the sequence of emitted events: each emit draws exactly five numbers from one
`random.Random(seed)`, whatever the outcome, so neither the timing of the deliveries nor the receiver's
answers can shift a later decision. Two runs that emit the same events with the same seed get the same list
of decisions, and (see `Dispatcher`) the same deliveries in the same order.

A dropped delivery is recorded as failed ('failed to connect'), not made to vanish: GitHub keeps every
delivery it generated in the App's delivery log, and a webhook the receiver never got shows there as
failed. Recovery (list failures, redeliver) is the only way the conductor can learn of a lost webhook, so
the drop has to leave exactly the trace GitHub leaves, or the recovery path could not be tested at all.
Redeliveries, and deliveries left pending by an earlier run, get no chaos.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from rig_sandbox.webhooks.settings import WebhookSettings


@dataclass(frozen=True)
class ChaosDecision:
    """What chaos does to the delivery of one emitted event (the effective decision, after the rules below)."""

    index: int
    """Position of the event among the events emitted since the dispatcher was made (0 is the first)."""
    event: str
    """`event.action` of the emitted event, to make a list of decisions readable."""
    drop: bool = False
    """Never sent; recorded as failed, so it can be found and redelivered (a drop excludes every other effect)."""
    duplicate: bool = False
    """Sent twice in a row, both times with the same GUID, as GitHub sometimes does."""
    swap_with_next: bool = False
    """Held until the next emitted event has been delivered, then sent (never chained: the next one keeps its
    place)."""
    late_s: float = 0.0
    """Seconds the delivery is held before it is sent (deliveries behind it wait too, so order is kept)."""

    @property
    def effects(self) -> tuple[str, ...]:
        """Names of the effects this decision has, empty when the delivery goes out as emitted."""
        flags = {"drop": self.drop, "duplicate": self.duplicate, "swap_with_next": self.swap_with_next,
                 "late": self.late_s > 0}
        return tuple(name for name, on in flags.items() if on)


class DeliveryChaos:
    """Makes one `ChaosDecision` per emitted event, from the seed alone; off when the seed is None."""

    def __init__(self, settings: WebhookSettings) -> None:
        self._settings = settings
        seed = settings.sandbox_chaos_seed
        self._random = random.Random(seed) if seed is not None else None  # noqa: S311 - replayable, not secret
        self._decisions: list[ChaosDecision] = []
        self._emitted = 0

    @property
    def enabled(self) -> bool:
        """Whether a seed is set."""
        return self._random is not None

    def decide(self, event: str) -> ChaosDecision:
        """Decide what happens to the next emitted event, named `event` (`event.action`) for readability."""
        index = self._emitted
        self._emitted += 1
        if self._random is None:
            return ChaosDecision(index, event)
        decision = self._draw(index, event, self._random)
        self._decisions.append(decision)
        return decision

    def decisions(self) -> list[ChaosDecision]:
        """Every decision made so far, in the order the events were emitted (none are kept with chaos off)."""
        return list(self._decisions)

    def _draw(self, index: int, event: str, rng: random.Random) -> ChaosDecision:
        settings = self._settings
        # Always five draws per event, in this order, so one outcome never shifts the next event's numbers.
        drop_u, duplicate_u, swap_u, late_u, late_fraction = (rng.random() for _ in range(5))
        if drop_u < settings.sandbox_chaos_drop:
            return ChaosDecision(index, event, drop=True)
        previous = self._decisions[-1] if self._decisions else None
        overtaking = previous is not None and previous.swap_with_next
        late_s = 0.0
        if late_u < settings.sandbox_chaos_late:
            late_s = round(late_fraction * settings.sandbox_chaos_late_max_s, 3)
        return ChaosDecision(
            index, event,
            duplicate=duplicate_u < settings.sandbox_chaos_duplicate,
            swap_with_next=not overtaking and swap_u < settings.sandbox_chaos_reorder,
            late_s=late_s,
        )
