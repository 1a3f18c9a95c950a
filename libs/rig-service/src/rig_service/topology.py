"""The topology file: services, their ports and the paths they own, and the agent pools to wake."""

from __future__ import annotations

import importlib.util
import tomllib
from dataclasses import dataclass
from pathlib import Path

SERVICE_PREFIX = "/services/"
"""Every service is reachable through the edge at /services/<name>/… with the prefix stripped."""


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    """One service: its name, default port, ASGI app factory and the public path prefixes it owns."""

    name: str
    port: int
    app: str
    paths: tuple[str, ...]

    @property
    def package(self) -> str:
        """The importable package the app lives in."""
        return self.app.split(":")[0].split(".")[0]

    def present(self) -> bool:
        """Whether this service's code is installed here (services land one issue at a time)."""
        return importlib.util.find_spec(self.package) is not None


@dataclass(frozen=True, slots=True)
class AgentPools:
    """The agent pools to wake, their port range and the command that starts one (with {agent} and {port})."""

    names: tuple[str, ...]
    first_port: int
    command: tuple[str, ...]

    def port(self, agent: str) -> int:
        """The port an agent process serves /healthz and /metrics on."""
        return self.first_port + self.names.index(agent)


@dataclass(frozen=True, slots=True)
class Topology:
    """The whole table."""

    edge: ServiceSpec
    services: dict[str, ServiceSpec]
    agents: AgentPools

    def route(self, path: str) -> tuple[ServiceSpec, str] | None:
        """The service owning `path` and the path to send it (longest prefix wins); None if nobody owns it."""
        if path.startswith(SERVICE_PREFIX):
            name, _, rest = path[len(SERVICE_PREFIX):].partition("/")
            spec = self.services.get(name)
            return (spec, "/" + rest) if spec else None
        best: tuple[int, ServiceSpec] | None = None
        for spec in self.services.values():
            for prefix in spec.paths:
                if _owns(prefix, path) and (best is None or len(prefix) > best[0]):
                    best = (len(prefix), spec)
        return (best[1], path) if best else None

    def present(self) -> list[ServiceSpec]:
        """The services whose code is installed, in file order."""
        return [spec for spec in self.services.values() if spec.present()]

    def spec(self, name: str) -> ServiceSpec:
        """The service (or the edge) called `name`."""
        if name == "edge":
            return self.edge
        if name not in self.services:
            raise KeyError(f"no service {name!r} in the topology; known: edge, {', '.join(self.services)}")
        return self.services[name]


def _owns(prefix: str, path: str) -> bool:
    if prefix == "/":
        return True
    return path == prefix or path.startswith(prefix.rstrip("/") + "/")


def default_path() -> Path:
    """The repository's topology.toml (found upwards from this file or the working folder)."""
    for start in (Path.cwd(), Path(__file__).resolve()):
        for folder in (start, *start.parents):
            candidate = folder / "topology.toml"
            if candidate.is_file():
                return candidate
    raise FileNotFoundError("topology.toml not found: run from the repository or set RIG_TOPOLOGY")


def load(path: Path | None = None) -> Topology:
    """Read and check the topology file."""
    source = path or default_path()
    raw = tomllib.loads(source.read_text())
    services = {name: ServiceSpec(name, int(s["port"]), str(s["app"]), tuple(s.get("paths", ())))
                for name, s in raw.get("services", {}).items()}
    edge = ServiceSpec("edge", int(raw["edge"]["port"]), str(raw["edge"]["app"]), ())
    ports = [s.port for s in services.values()] + [edge.port]
    if len(set(ports)) != len(ports):
        raise ValueError(f"{source}: two services share a port")
    for spec in services.values():
        bad = [p for p in spec.paths if not p.startswith("/")]
        if bad:
            raise ValueError(f"{source}: service {spec.name} has paths not starting with '/': {bad}")
    agents = raw.get("agents", {})
    return Topology(edge, services,
                    AgentPools(tuple(agents.get("names", ())), int(agents.get("first_port", 8010)),
                               tuple(agents.get("command", ()))))
