"""Where the sandbox sends its webhook events: anything with `emit(event, payload)` (the dispatcher, a recorder)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol


class EventSink(Protocol):
    """Takes one webhook event: queues it and returns at once (delivery, signing and retries are its own)."""

    def emit(self, event: str, payload: dict[str, Any]) -> None:
        """Take the event named `event` (the `X-GitHub-Event` header) with its `payload`."""


class RecordingSink:
    """Keeps every emitted event in order, for tests and for `GET /_sandbox/events`."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    def emit(self, event: str, payload: dict[str, Any]) -> None:
        """Record the event."""
        self.events.append((event, payload))

    def named(self, event: str, action: str | None = None) -> list[dict[str, Any]]:
        """The payloads of events named `event` (and with `action`, when given), in order."""
        return [payload for name, payload in self.events
                if name == event and (action is None or payload.get("action") == action)]


class FanOut:
    """Hands each event to several sinks in turn."""

    def __init__(self, sinks: Sequence[EventSink]) -> None:
        self.sinks = list(sinks)

    def emit(self, event: str, payload: dict[str, Any]) -> None:
        """Give the event to every sink."""
        for sink in self.sinks:
            sink.emit(event, payload)
