"""`rig dead`: the entries consumers gave up on (`rig:dead`), to read, send back to their stream, or drop."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import asdict
from typing import TypeVar

import click
from rich.progress import Progress
from rich.table import Table

from rig_bus import dead as letters
from rig_cli import bootstrap
from rig_contracts import Names

T = TypeVar("T")

_ERROR_WIDTH = 120


@click.group("dead")
def dead() -> None:
    """Dead letters: entries delivered too often without success, with their last error."""


@dead.command("list")
@click.option("--count", type=click.IntRange(min=1), default=100, show_default=True,
              help="Show at most this many, oldest first.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines, with every field.")
def list_command(count: int, as_json: bool) -> None:
    """List dead letters, oldest first."""
    settings = bootstrap.load_settings()
    names = bootstrap.names_of(settings)

    async def work() -> tuple[list[letters.DeadLetter], int]:
        async with bootstrap.valkey(bootstrap.redis_url(settings)) as client:
            return await letters.list_dead(client, names, count), await letters.count_dead(client, names)

    found, total = bootstrap.run(work())
    if as_json:
        bootstrap.print_json({"total": total, "dead_letters": [
            {**asdict(letter), "event_id": letter.event_id, "event_type": letter.event_type} for letter in found]})
        return
    console = bootstrap.stdout()
    if not found:
        console.print(f"No dead letters in {names.dead}.")
        return
    table = Table(title=f"Dead letters in {names.dead} ({len(found)} of {total})")
    for column in ("id", "failed at", "stream / group", "tries", "event", "error"):
        table.add_column(column, overflow="fold")
    for letter in found:
        event = f"{letter.event_type or '?'} {letter.event_id or ''}".strip()
        table.add_row(letter.dead_id, letter.failed_at, f"{letter.stream} / {letter.group}", str(letter.deliveries),
                      event, _first_line(letter.error))
    console.print(table)
    console.print("Send one back with `rig dead retry ID` (or `--all`), or discard it with `rig dead drop ID`.")


@dead.command("retry")
@click.argument("dead_id", required=False)
@click.option("--all", "retry_everything", is_flag=True, help="Retry every dead letter there is now.")
def retry_command(dead_id: str | None, retry_everything: bool) -> None:
    """Send a dead letter back to its stream with its original event, for the group that failed to handle again.

    Groups that already handled the event drop it (their inbox knows its id).
    """
    if bool(dead_id) == retry_everything:
        raise click.UsageError("give one dead letter id (see `rig dead list`) or --all, not both and not neither")
    settings = bootstrap.load_settings()
    names = bootstrap.names_of(settings)
    url = bootstrap.redis_url(settings)
    if dead_id:
        stream, new_id = bootstrap.run(_retry_one(url, names, dead_id))
        bootstrap.stdout().print(f"retried {dead_id}: back on {stream} as {new_id}")
        return
    count, unsendable = bootstrap.run(_retry_all(url, names))
    console = bootstrap.stdout()
    console.print(f"retried {count} dead letter(s)" if count or unsendable else f"no dead letters in {names.dead}")
    if unsendable:
        console.print(f"left {len(unsendable)} that kept no fields to send ({', '.join(unsendable)}): rebuild from "
                      "the event store with `rig replay`, then `rig dead drop` them")


@dead.command("drop")
@click.argument("dead_ids", nargs=-1, required=True)
def drop_command(dead_ids: tuple[str, ...]) -> None:
    """Discard dead letters for good (the event store still has their events)."""
    settings = bootstrap.load_settings()
    names = bootstrap.names_of(settings)

    async def work() -> None:
        async with bootstrap.valkey(bootstrap.redis_url(settings)) as client:
            for dead_id in dead_ids:
                await _guarded(letters.drop(client, names, dead_id))
                bootstrap.stdout().print(f"dropped {dead_id}")

    bootstrap.run(work())


async def _retry_one(url: str, names: Names, dead_id: str) -> tuple[str, str]:
    async with bootstrap.valkey(url) as client:
        letter = await _guarded(letters.get(client, names, dead_id))
        return letter.stream, await _guarded(letters.retry(client, names, dead_id))


async def _retry_all(url: str, names: Names) -> tuple[int, list[str]]:
    async with bootstrap.valkey(url) as client:
        total = await letters.count_dead(client, names)
        if not total:
            return 0, []
        with Progress(console=bootstrap.stderr(), transient=True) as progress:
            task = progress.add_task("retrying dead letters", total=total)

            async def advance(_letter: letters.DeadLetter, _new_id: str) -> None:
                progress.advance(task)

            return await _guarded(letters.retry_all(client, names, advance))


async def _guarded(work: Awaitable[T]) -> T:
    try:
        return await work
    except KeyError as error:
        raise click.ClickException(str(error.args[0])) from error
    except ValueError as error:
        raise click.ClickException(str(error)) from error


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= _ERROR_WIDTH else line[:_ERROR_WIDTH - 1] + "…"
