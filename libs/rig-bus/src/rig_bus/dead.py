"""Dead letters for operators (docs/design.md sections 3 and 4): list them, send them back to their stream, drop them.

A retried entry goes back to its original stream with its original fields, so the event keeps its id: groups
that already handled it drop it through their inbox, and the group that gave up on it handles it once more.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

import redis.asyncio as aioredis
from redis.exceptions import WatchError

from rig_bus.messages import decode_fields, text
from rig_contracts import Names
from rig_contracts.entries import EVENT_FIELD

WATCH_ATTEMPTS = 20
"""How often a retry reads the dead letter again when `rig:dead` changed under it before giving up."""

_ENTRY_ID = re.compile(r"^[0-9]{1,20}-[0-9]{1,20}$")


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One entry of `rig:dead`: where it failed, how often, why, and the original entry's fields."""

    dead_id: str
    stream: str
    group: str
    entry_id: str
    deliveries: int
    consumer: str
    error: str
    failed_at: str
    fields: dict[str, str]

    @property
    def event(self) -> dict[str, Any] | None:
        """The original entry's event envelope as plain JSON data, or None when it holds none (or not valid JSON)."""
        raw = self.fields.get(EVENT_FIELD)
        if raw is None:
            return None
        try:
            parsed = json.loads(raw)
        except ValueError:
            return None
        return cast("dict[str, Any]", parsed) if isinstance(parsed, dict) else None

    @property
    def event_id(self) -> str | None:
        """The id of the event the entry carried, when it carried one."""
        event = self.event
        return str(event["id"]) if event and "id" in event else None

    @property
    def event_type(self) -> str | None:
        """The type of the event the entry carried, when it carried one."""
        event = self.event
        return str(event["type"]) if event and "type" in event else None

    @classmethod
    def from_entry(cls, dead_id: str, record: Mapping[str, str]) -> DeadLetter:
        """Build one from a `rig:dead` entry's decoded fields (rig_contracts.entries.DEAD_LETTER_FIELDS)."""
        try:
            fields = json.loads(record.get("fields") or "{}")
        except ValueError:
            fields = {}
        return cls(
            dead_id=dead_id, stream=record.get("stream", ""), group=record.get("group", ""),
            entry_id=record.get("entry_id", ""), deliveries=int(record.get("deliveries") or 0),
            consumer=record.get("consumer", ""), error=record.get("error", ""),
            failed_at=record.get("failed_at", ""),
            fields={str(k): str(v) for k, v in fields.items()} if isinstance(fields, dict) else {},
        )


async def list_dead(client: aioredis.Redis, names: Names, count: int = 100, *,
                    after: str | None = None) -> list[DeadLetter]:
    """Up to `count` dead letters, oldest first; `after` (a dead id) pages on past the ones already seen."""
    start = f"({after}" if after else "-"
    rows = await client.xrange(names.dead, min=start, max="+", count=count)
    return [DeadLetter.from_entry(text(dead_id), decode_fields(raw or {})) for dead_id, raw in rows or []]


async def count_dead(client: aioredis.Redis, names: Names) -> int:
    """How many dead letters wait for an operator."""
    return int(await client.xlen(names.dead))


async def retry(client: aioredis.Redis, names: Names, dead_id: str) -> str:
    """Append the dead letter's original fields to its stream again and delete it, atomically; return the new id.

    Raises KeyError when `dead_id` is not (or no longer) in `rig:dead`, and ValueError when the dead letter kept
    no fields to send (its entry had been trimmed from the stream before it was dead-lettered).
    """
    async with client.pipeline(transaction=True) as pipe:
        for _ in range(WATCH_ATTEMPTS):
            try:
                # WATCH makes the MULTI fail if another retry or drop took this letter between reading and writing.
                await pipe.watch(names.dead)
                letter = _sendable(await get(pipe, names, dead_id))
                pipe.multi()  # type: ignore[no-untyped-call]
                pipe.xadd(letter.stream, cast("Any", letter.fields))
                pipe.xdel(names.dead, dead_id)
                new_id, _deleted = await pipe.execute()
            except WatchError:
                continue
            return text(new_id)
    raise RuntimeError(f"{names.dead} kept changing while retrying {dead_id}: run the retry again")


async def retry_all(client: aioredis.Redis, names: Names,
                    on_retried: Callable[[DeadLetter, str], Awaitable[None]] | None = None,
                    batch: int = 100) -> tuple[int, list[str]]:
    """Retry every dead letter present when called (not ones that fail again meanwhile).

    Returns how many went back, and the ids of those left in place because they kept no fields to send.
    `on_retried(letter, new_entry_id)` is awaited after each one, e.g. to show progress.
    """
    newest = await client.xrevrange(names.dead, count=1)
    if not newest:
        return 0, []
    last = text(newest[0][0])
    retried, after = 0, None
    unsendable: list[str] = []
    while letters := await list_dead(client, names, batch, after=after):
        for letter in letters:
            if _id_after(letter.dead_id, last):
                return retried, unsendable
            try:
                new_id = await retry(client, names, letter.dead_id)
            except KeyError:
                continue  # somebody else retried or dropped it meanwhile: nothing left to do for it
            except ValueError:
                unsendable.append(letter.dead_id)
                continue
            retried += 1
            if on_retried is not None:
                await on_retried(letter, new_id)
        after = letters[-1].dead_id
    return retried, unsendable


async def drop(client: aioredis.Redis, names: Names, dead_id: str) -> None:
    """Delete a dead letter for good; raises KeyError when it is not in `rig:dead`."""
    if not await client.xdel(names.dead, _checked(dead_id)):
        raise KeyError(_unknown(names, dead_id))


async def get(client: aioredis.Redis, names: Names, dead_id: str) -> DeadLetter:
    """One dead letter by its id in `rig:dead`; raises KeyError when there is none."""
    rows = await client.xrange(names.dead, min=_checked(dead_id), max=dead_id)
    if not rows:
        raise KeyError(_unknown(names, dead_id))
    return DeadLetter.from_entry(dead_id, decode_fields(rows[0][1] or {}))


def _sendable(letter: DeadLetter) -> DeadLetter:
    if not letter.fields or not letter.stream:
        raise ValueError(f"dead letter {letter.dead_id} kept no fields of entry {letter.entry_id or '?'} (it was "
                         f"trimmed from {letter.stream or 'its stream'} first), so there is nothing to send again: "
                         "rebuild from the event store with `rig replay`, then `rig dead drop` it")
    return letter


def _unknown(names: Names, dead_id: str) -> str:
    return f"no dead letter {dead_id} in {names.dead}: see the ids with `rig dead list`"


def _checked(dead_id: str) -> str:
    if not _ENTRY_ID.match(dead_id):
        raise KeyError(f"{dead_id!r} is not a stream entry id (like 1718000000000-0): copy one from `rig dead list`")
    return dead_id


def _id_after(entry_id: str, other: str) -> bool:
    ms, _, seq = entry_id.partition("-")
    other_ms, _, other_seq = other.partition("-")
    return (int(ms), int(seq or 0)) > (int(other_ms), int(other_seq or 0))

