"""`rig replay`: rebuild a service's projection from the event store (docs/design.md section 4), never from the stream.

The protocol, all through the edge with the tool's admin token:

1. `POST /api/admin/{name}/rebuild` `{"from_seq": SEQ or null}`: the service pauses live consumption (and,
   without SEQ, resets its projection); answers `{"rebuild_id", "state": "rebuilding", "replay_stream"}`.
2. `POST /api/replays` `{"service", "after": SEQ or 0, "rebuild_id"}`: the event store appends its log to the
   service's replay stream, then an end marker; answers `{"events": n, "last_seq": s}`.
3. `GET /api/admin/{name}/rebuild` until `{"state": "live"}`, showing `replayed` against `n`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from rig_cli import bootstrap
from rig_cli.edge import AdminToken, Edge


@dataclass(frozen=True, slots=True)
class Rebuilt:
    """A finished rebuild: its id, how many events the event store sent, the last sequence, the time it took."""

    rebuild_id: str
    events: int
    last_seq: int
    seconds: float


async def start(edge: Edge, service: str, from_seq: int | None) -> str:
    """Step 1: put the service into rebuilding; return the rebuild id."""
    answer = await edge.call("POST", f"/api/admin/{service}/rebuild", {"from_seq": from_seq})
    rebuild_id = answer.get("rebuild_id")
    if answer.get("state") != "rebuilding" or not isinstance(rebuild_id, str) or not rebuild_id:
        raise click.ClickException(f"{service} did not start a rebuild (answered {answer}): check it with "
                                   "`rig status`, then run `rig replay` again")
    return rebuild_id


async def feed(edge: Edge, service: str, from_seq: int | None, rebuild_id: str) -> tuple[int, int]:
    """Step 2: have the event store send its log to the service's replay stream; return (events, last seq)."""
    body = {"service": service, "after": from_seq or 0, "rebuild_id": rebuild_id}
    try:
        answer = await edge.call("POST", "/api/replays", body)
    except click.ClickException as error:
        raise click.ClickException(f"{error.message}. {service} is paused in rebuild {rebuild_id}: run "
                                   f"`rig replay --service {service}` again once the event store is up") from error
    return int(answer.get("events", 0)), int(answer.get("last_seq", 0))


async def wait_live(edge: Edge, service: str, events: int, timeout_s: float, poll_s: float,
                    progress: Progress) -> None:
    """Step 3: poll the service until it is live again, moving the progress bar with `replayed`."""
    task = progress.add_task(f"replaying into {service}", total=max(events, 1))
    deadline = asyncio.get_running_loop().time() + timeout_s
    replayed = 0
    while True:
        answer = await edge.call("GET", f"/api/admin/{service}/rebuild")
        replayed = int(answer.get("replayed", replayed))
        progress.update(task, completed=min(replayed, events) if events else 0)
        state = answer.get("state")
        if state == "live":
            progress.update(task, completed=max(events, 1))
            return
        if state != "rebuilding":
            raise click.ClickException(f"{service} left the rebuild in state {state!r} ({_reason(answer)}): see its "
                                       f"log, then run `rig replay --service {service}` again")
        if asyncio.get_running_loop().time() > deadline:
            raise click.ClickException(
                f"{service} is still rebuilding after {timeout_s:g} s ({replayed} of {events} events): it carries "
                f"on by itself; follow it with `rig status`, or wait longer with --timeout")
        await asyncio.sleep(poll_s)


async def replay(edge: Edge, service: str, from_seq: int | None, timeout_s: float, poll_s: float) -> Rebuilt:
    """Run the three steps, showing progress on stderr."""
    started = asyncio.get_running_loop().time()
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=bootstrap.stderr(), transient=True) as progress:
        step = progress.add_task(f"asking {service} to start a rebuild", total=None)
        rebuild_id = await start(edge, service, from_seq)
        progress.update(step, description=f"asking the event store to replay into {service}")
        events, last_seq = await feed(edge, service, from_seq, rebuild_id)
        progress.remove_task(step)
        await wait_live(edge, service, events, timeout_s, poll_s, progress)
    return Rebuilt(rebuild_id, events, last_seq, asyncio.get_running_loop().time() - started)


@click.command("replay")
@click.option("--service", required=True, help="The service whose projection to rebuild, e.g. costs.")
@click.option("--from", "from_seq", type=click.IntRange(min=0), default=None,
              help="Event-store sequence to continue after, keeping the projection. "
                   "Default: reset the projection and replay every event.")
@click.option("--timeout", "timeout_s", type=click.FloatRange(min=0), default=1800.0, show_default=True,
              help="Seconds to wait for the service to be live again.")
@click.option("--poll", "poll_s", type=click.FloatRange(min=0.01), default=0.5, show_default=True,
              help="Seconds between progress checks.")
def replay_command(service: str, from_seq: int | None, timeout_s: float, poll_s: float) -> None:
    """Rebuild a service's projection by replaying the event store into it."""
    settings = bootstrap.load_settings()
    topology = bootstrap.topology_of(settings)
    if service not in topology.services:
        raise click.BadParameter(f"no service {service!r} in the topology; known: {', '.join(topology.services)}",
                                 param_hint="--service")
    token = AdminToken(bootstrap.signing_key(settings), bootstrap.operator_subject(), settings.admin_token_ttl_s)

    async def work() -> Rebuilt:
        async with Edge(settings.edge_url, token, settings.http_timeout_s) as edge:
            return await replay(edge, service, from_seq, timeout_s, poll_s)

    done = bootstrap.run(work())
    bootstrap.stdout().print(f"{service} is live again: rebuild {done.rebuild_id} replayed {done.events} event(s) "
                             f"up to sequence {done.last_seq} in {done.seconds:.1f} s")


def _reason(answer: dict[str, Any]) -> str:
    return str(answer.get("error") or answer.get("detail") or answer)
