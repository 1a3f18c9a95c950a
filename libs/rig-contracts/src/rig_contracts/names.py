"""Stream, list, channel and key names (docs/design.md section 3), under a configurable prefix."""

from __future__ import annotations

from dataclasses import dataclass

AGENTS = ("dev-e-node", "dev-e-dotnet", "dev-e-python", "dev-e-base", "review-e", "ibuild-e")
"""Every agent pool the system knows."""


@dataclass(frozen=True, slots=True)
class Names:
    """Every Valkey name the system uses, each under `prefix` so installations and tests can share one server."""

    prefix: str = ""

    @property
    def events(self) -> str:
        """The shared event stream, one consumer group per service."""
        return f"{self.prefix}rig:events"

    @property
    def dead(self) -> str:
        """Dead letters: entries delivered too many times, with their error."""
        return f"{self.prefix}rig:dead"

    @property
    def runlogs(self) -> str:
        """Agent output lines for the cost tracker to store."""
        return f"{self.prefix}runlogs"

    def replay(self, service: str) -> str:
        """Return a service's private replay stream, fed from the event store."""
        return f"{self.prefix}rig:replay:{service}"

    def assignments(self, agent: str) -> str:
        """Work for one agent pool (group `agents`)."""
        return f"{self.prefix}assignments:{agent}"

    def signal(self, agent: str) -> str:
        """Wake list KEDA watches; one entry per assignment."""
        return f"{self.prefix}signal:{agent}"

    def busy(self, agent: str) -> str:
        """One-entry list with a TTL kept alive while an agent holds work."""
        return f"{self.prefix}busy:{agent}"

    def session(self, repo: str, number: int) -> str:
        """Return the key of the provider session to resume for a work item."""
        return f"{self.prefix}session:{repo}#{number}"

    def published(self, event_id: str) -> str:
        """Marker that an event id was already appended (idempotent publishing)."""
        return f"{self.prefix}published:{event_id}"

    def logs(self, agent: str) -> str:
        """Pub/sub channel of an agent's live output."""
        return f"{self.prefix}logs:{agent}"

    def errors(self, stream: str, group: str) -> str:
        """Hash of the last handler error per pending entry id of one group."""
        return f"{self.prefix}rig:errors:{stream}:{group}"

    def revoked(self) -> str:
        """Set of revoked token ids (jti), mirrored from TOKEN_REVOKED events."""
        return f"{self.prefix}rig:revoked"
