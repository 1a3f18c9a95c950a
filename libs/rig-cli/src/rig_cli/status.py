"""`rig status`: whether every service is ready, and how much waits in the streams and consumer groups."""

from __future__ import annotations

import asyncio
import re
from dataclasses import asdict, dataclass, field
from typing import Any, cast

import click
import redis.asyncio as aioredis
from rich.table import Table

from rig_cli import bootstrap
from rig_cli.edge import AdminToken, Edge
from rig_cli.settings import CliSettings
from rig_contracts import Names

_GLOB_SPECIAL = re.compile(r"([*?\[\]\\])")


@dataclass(frozen=True, slots=True)
class ServiceHealth:
    """One service's `/readyz` through the edge: up, or down with the failing checks and why."""

    name: str
    up: bool
    failing: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class GroupState:
    """A consumer group of the event stream: its consumers, entries handed out but not acknowledged, and lag."""

    name: str
    consumers: int
    pending: int
    lag: int
    last_delivered_id: str


@dataclass(frozen=True, slots=True)
class BusState:
    """Lengths of the streams an operator watches, the event stream's groups and the dead-letter count."""

    streams: dict[str, int]
    groups: list[GroupState]
    dead_letters: int


async def service_health(edge: Edge, name: str) -> ServiceHealth:
    """Ask the edge for `/services/{name}/readyz`."""
    try:
        response = await edge.send("GET", f"/services/{name}/readyz")
    except click.ClickException as error:
        return ServiceHealth(name, up=False, failing={"edge": error.message})
    if response.status_code == 200:
        return ServiceHealth(name, up=True)
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("checks"), dict):
        checks = cast("dict[str, Any]", body["checks"])
        named = body.get("failing") or [name for name, outcome in checks.items() if outcome != "ok"]
        failing = {str(name): str(checks.get(name, "failed")) for name in named}
        return ServiceHealth(name, up=False, failing=failing or {"readyz": f"HTTP {response.status_code}"})
    return ServiceHealth(name, up=False, failing={"readyz": edge.explain("GET", f"/services/{name}/readyz",
                                                                          response)})


async def group_lag(client: aioredis.Redis, stream: str, info: dict[str, Any]) -> int:
    """Entries of `stream` the group has not been handed yet: XINFO's `lag` (Redis 7), else counted after its cursor."""
    lag = info.get("lag")
    if lag is not None:
        return int(lag)
    start, count = f"({_text(info['last-delivered-id'])}", 0
    while rows := await client.xrange(stream, min=start, max="+", count=1000):
        count += len(rows)
        start = f"({_text(rows[-1][0])}"
    return count


async def event_groups(client: aioredis.Redis, stream: str) -> list[GroupState]:
    """The consumer groups of `stream` (none when the stream does not exist yet)."""
    if not await client.exists(stream):
        return []
    infos: list[dict[str, Any]] = await client.xinfo_groups(stream)
    lags = await asyncio.gather(*(group_lag(client, stream, info) for info in infos))
    return [GroupState(_text(info["name"]), int(info["consumers"]), int(info["pending"]), lag,
                       _text(info["last-delivered-id"])) for info, lag in zip(infos, lags, strict=True)]


async def bus_state(client: aioredis.Redis, names: Names, agents: tuple[str, ...]) -> BusState:
    """XLEN of the event, dead-letter and assignment streams; the event stream's groups with pending and lag."""
    pattern = _GLOB_SPECIAL.sub(r"\\\1", names.assignments("")) + "*"
    found = {_text(key) async for key in client.scan_iter(match=pattern, count=1000, _type="STREAM")}
    assignment_streams = sorted(found | {names.assignments(agent) for agent in agents})
    keys = [names.events, names.dead, *assignment_streams]
    lengths = await asyncio.gather(*(client.xlen(key) for key in keys))
    streams = {key: int(length) for key, length in zip(keys, lengths, strict=True)}
    return BusState(streams, await event_groups(client, names.events), streams[names.dead])


async def gather_status(settings: CliSettings, valkey_url: str | None,
                        valkey_error: str | None) -> dict[str, Any]:
    """Everything `rig status` shows, as plain data."""
    topology = bootstrap.topology_of(settings)
    token = AdminToken(bootstrap.signing_key(settings), bootstrap.operator_subject(), settings.admin_token_ttl_s)
    service_names = ["edge", *(spec.name for spec in topology.present())]
    async with Edge(settings.edge_url, token, settings.http_timeout_s) as edge:
        health = await asyncio.gather(*(service_health(edge, name) for name in service_names))
    result: dict[str, Any] = {"edge_url": settings.edge_url, "services": [asdict(h) for h in health]}
    if valkey_url is None:
        result["valkey"] = {"error": valkey_error}
        return result
    try:
        async with bootstrap.valkey(valkey_url) as client:
            state = await bus_state(client, bootstrap.names_of(settings), topology.agents.names)
    except click.ClickException as error:
        result["valkey"] = {"url": bootstrap.safe_url(valkey_url), "error": error.message}
        return result
    result["valkey"] = {"url": bootstrap.safe_url(valkey_url), **asdict(state)}
    return result


def healthy(status: dict[str, Any]) -> bool:
    """Whether every service is up and Valkey answered."""
    return all(s["up"] for s in status["services"]) and "error" not in status["valkey"]


def show(status: dict[str, Any], events_stream: str) -> None:
    """Print the status as tables."""
    console = bootstrap.stdout()
    services = Table(title=f"Services (through the edge at {status['edge_url']})")
    for column in ("service", "state", "failing checks"):
        services.add_column(column)
    unreachable = ""
    for s in status["services"]:
        failing = dict(s["failing"])
        if "edge" in failing:
            # The same transport error would repeat on every row: say it once under the table.
            unreachable, failing["edge"] = failing["edge"], "not reachable (see below)"
        text = "\n".join(f"{check}: {why}" for check, why in failing.items())
        services.add_row(s["name"], "[green]up[/]" if s["up"] else "[red]down[/]", text)
    console.print(services)
    if unreachable:
        console.print(f"[red]{unreachable}[/]")
    valkey = status["valkey"]
    if "error" in valkey:
        console.print(f"[red]Valkey: {valkey['error']}[/]")
        return
    console.print(f"Valkey at {valkey['url']}")
    streams = Table(title="Streams")
    streams.add_column("stream")
    streams.add_column("entries", justify="right")
    for name, length in valkey["streams"].items():
        streams.add_row(name, str(length))
    console.print(streams)
    groups = Table(title=f"Consumer groups of {events_stream}")
    for column in ("group", "consumers", "pending", "lag"):
        groups.add_column(column, justify="left" if column == "group" else "right")
    for g in valkey["groups"]:
        groups.add_row(g["name"], str(g["consumers"]), str(g["pending"]), str(g["lag"]))
    console.print(groups if valkey["groups"] else f"No consumer groups on {events_stream} yet.")
    dead = valkey["dead_letters"]
    console.print(f"Dead letters: {dead}" + (" — inspect them with `rig dead list`" if dead else ""))


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines instead of tables.")
def status(as_json: bool) -> None:
    """Show whether each service is ready, stream lengths, consumer group lag and dead letters.

    Exits 1 when a service is down or Valkey does not answer.
    """
    settings = bootstrap.load_settings()
    valkey_url, valkey_error = None, None
    try:
        valkey_url = bootstrap.redis_url(settings)
    except click.ClickException as error:
        valkey_error = error.message
    result = bootstrap.run(gather_status(settings, valkey_url, valkey_error))
    if as_json:
        bootstrap.print_json(result)
    else:
        show(result, bootstrap.names_of(settings).events)
    if not healthy(result):
        raise click.exceptions.Exit(1)


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
