"""What the edge exposes of each service under /services/<name>/: its health, readiness and metrics, nothing else.

The route table's public paths (`paths` in topology.toml) are each service's API, every one of them
authenticated by the service. /services/<name>/… is the operator's window: liveness, readiness and Prometheus
metrics only. A service's other internals (`/admin/…`, its OpenAPI document) are not reachable from outside,
and the sandbox, whose control API (`/_sandbox/…`) takes orders from anyone, is routed only while it is the
GitHub in use (its URL is the configured GitHub API URL, as under `make run` without GitHub credentials), and
then only for its health as well.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from rig_service.topology import SERVICE_PREFIX, ServiceSpec

OPERATOR_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
"""The only paths the edge forwards under /services/<name>/."""

SANDBOX = "sandbox"
"""The GitHub stand-in's service name in the topology."""


def same_base(one: str, other: str) -> bool:
    """Whether two base URLs name the same place (scheme, host, port and path; case and a final slash aside)."""
    first, second = urlsplit(one.strip()), urlsplit(other.strip())
    return (first.scheme.lower(), first.hostname, first.port, first.path.rstrip("/")) == (
        second.scheme.lower(), second.hostname, second.port, second.path.rstrip("/"))


@dataclass(frozen=True, slots=True)
class Exposure:
    """Decides whether a routed request may go on to its service."""

    sandbox_is_github: bool
    """The sandbox stands in for GitHub here: its health is served; otherwise nothing of it is."""

    @classmethod
    def of(cls, upstreams: dict[str, str], github_api_url: str) -> Exposure:
        """The exposure for these upstream base URLs and the configured GitHub API URL."""
        sandbox = upstreams.get(SANDBOX)
        return cls(sandbox_is_github=sandbox is not None and same_base(sandbox, github_api_url))

    def allows(self, path: str, spec: ServiceSpec, forwarded: str) -> bool:
        """Whether `path`, routed to `spec` as `forwarded`, is served through the edge."""
        if spec.name == SANDBOX and not self.sandbox_is_github:
            return False
        if path.startswith(SERVICE_PREFIX):
            return forwarded in OPERATOR_PATHS
        return True
