"""Which of the App's recent webhook deliveries to ask GitHub to send again: pure, no I/O.

GitHub does not retry a failed delivery by itself. A pass of the sweep lists the deliveries of a look-back
window, learns which GUIDs ingest stored and which it asked for before, and this module decides. A GUID we
stored is never asked for again, even when GitHub lists its attempt as failed (GitHub timed out while we
committed): a redelivery would only be answered as a duplicate. A GUID we never stored is asked for once per
pass (the newest attempt is the one to redeliver), unless a request made by an earlier pass is still in
flight, or the GUID has had its share of requests.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, Protocol, TypeVar


class Listed(Protocol):
    """A delivery as the deliveries API lists it (rig_github's `Delivery` is one)."""

    @property
    def id(self) -> int:
        """The delivery's own id (each attempt has one; ids grow)."""

    @property
    def guid(self) -> str:
        """X-GitHub-Delivery, shared by every attempt of one event."""

    @property
    def event(self) -> str:
        """X-GitHub-Event, e.g. issues."""

    @property
    def status_code(self) -> int:
        """The receiver's answer (502/504 when nothing answered)."""

    @property
    def delivered_at(self) -> str:
        """When it was attempted, e.g. 2021-05-12T20:33:44Z."""


L = TypeVar("L", bound=Listed)


@dataclass(frozen=True)
class Asked:
    """An earlier pass's requests for a GUID: how many, when the last was made, the newest id listed then."""

    attempts: int
    last_asked_at: datetime
    newest_id_then: int


@dataclass(frozen=True)
class Plan(Generic[L]):
    """What a pass does: the deliveries to redeliver (one per GUID) and how many listed GUIDs got each verdict."""

    redeliver: tuple[L, ...]
    stored: int
    failed_but_stored: int
    missing: int
    waiting: int
    gave_up: int


def delivered_at(delivery: Listed) -> datetime | None:
    """When a delivery was attempted, or None when GitHub's timestamp cannot be read."""
    try:
        return datetime.fromisoformat(delivery.delivered_at.replace("Z", "+00:00"))
    except ValueError:
        return None


def within(deliveries: Iterable[L], since: datetime) -> list[L]:
    """The deliveries attempted at or after `since` (an unreadable timestamp counts as recent)."""
    return [d for d in deliveries if (moment := delivered_at(d)) is None or moment >= since]


def failed(delivery: Listed) -> bool:
    """Whether the receiver did not accept the delivery (anything but a 2xx)."""
    return not 200 <= delivery.status_code < 300


def plan(deliveries: Sequence[L], stored: set[str], asked: Mapping[str, Asked], *, now: datetime,
         retry_after_s: float, max_attempts: int) -> Plan[L]:
    """Decide which GUIDs to ask for again, given what is stored and what earlier passes asked for."""
    newest: dict[str, L] = {}
    for delivery in deliveries:
        if delivery.guid and (delivery.guid not in newest or delivery.id > newest[delivery.guid].id):
            newest[delivery.guid] = delivery
    chosen: list[L] = []
    counts = {"stored": 0, "failed_but_stored": 0, "missing": 0, "waiting": 0, "gave_up": 0}
    for guid, delivery in newest.items():
        if guid in stored:
            counts["failed_but_stored" if failed(delivery) else "stored"] += 1
            continue
        counts["missing"] += 1
        before = asked.get(guid)
        if before is None:
            chosen.append(delivery)
        elif before.attempts >= max_attempts:
            counts["gave_up"] += 1
        elif delivery.id > before.newest_id_then or (now - before.last_asked_at).total_seconds() >= retry_after_s:
            # GitHub attempted it again since we asked (and it is still not stored), or our request got lost.
            chosen.append(delivery)
        else:
            counts["waiting"] += 1
    return Plan(redeliver=tuple(chosen), **counts)
