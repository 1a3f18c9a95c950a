"""The router's own SQL for work items and their history (the projection of `rig:events`)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import asyncpg

from rig_workflow import Policy, State, WorkItem

_SETS = {f.name for f in fields(WorkItem) if str(f.type).startswith("frozenset[")}


_ITEM_FIELDS = tuple(f.name for f in fields(WorkItem))
_POLICY_FIELDS = tuple(f.name for f in fields(Policy))


def item_to_json(item: WorkItem) -> dict[str, Any]:
    """The item as stored: sets as sorted lists, the state by name."""
    # Field by field rather than `asdict`, whose deep copy is most of the cost of a busy batch.
    data = {name: getattr(item, name) for name in _ITEM_FIELDS}
    for name in _SETS:
        data[name] = sorted(data[name])
    data["anomalies"] = list(item.anomalies)
    data["state"] = item.state.value
    return data


def item_from_json(data: Mapping[str, Any]) -> WorkItem:
    """The item as stored, back as the state machine's value."""
    values = dict(data)
    for name in _SETS:
        values[name] = frozenset(values.get(name, ()))
    values["anomalies"] = tuple(values.get("anomalies", ()))
    values["state"] = State(values["state"])
    return WorkItem(**values)


def policy_to_json(policy: Policy) -> dict[str, Any]:
    """The policy as stored with its item."""
    return {name: getattr(policy, name) for name in _POLICY_FIELDS}


def policy_from_json(data: Mapping[str, Any]) -> Policy:
    """The stored policy; an item never approved has the default one."""
    return Policy(**data) if data else Policy()


@dataclass
class ItemRow:
    """A work item as the router keeps it: the state machine's item, its policy and the issue's details."""

    item: WorkItem
    policy: Policy = field(default_factory=Policy)
    details: dict[str, Any] = field(default_factory=dict)
    """Title, body, labels and the config's commands, for the assignment entries."""


async def load(conn: asyncpg.Connection, subject: str) -> ItemRow | None:
    """The item of `subject`, locked for this transaction; None when it was never seen."""
    row = await conn.fetchrow("SELECT item::text, policy::text, details::text FROM work_items WHERE subject = $1 "
                              "FOR UPDATE", subject)
    if row is None:
        return None
    return ItemRow(item_from_json(json.loads(row["item"])), policy_from_json(json.loads(row["policy"])),
                   json.loads(row["details"]))


_LOCK_SUBJECTS = """
SELECT count(pg_advisory_xact_lock(hashtext(current_schema()), key)) FROM (
    SELECT DISTINCT hashtext(subject) AS key FROM unnest($1::text[]) AS subject ORDER BY key) AS keys
"""
"""Lock each subject for the transaction, in key order (two batches never wait on each other in a cycle)."""


async def load_many(conn: asyncpg.Connection, subjects: Sequence[str]) -> dict[str, ItemRow]:
    """The items of `subjects` that exist, locked for this transaction (in one round trip, in a fixed order).

    A row lock cannot hold an item that does not exist yet: two router replicas could both see no item, both
    create it, and the last write would win (with two first assignments). So each subject is first locked
    with a transaction-level advisory lock (namespaced by the schema), taken before the rows are read: the
    second replica waits, then reads the item the first one committed.
    """
    await conn.fetchval(_LOCK_SUBJECTS, list(subjects))
    rows = await conn.fetch("SELECT subject, item::text, policy::text, details::text FROM work_items "
                            "WHERE subject = ANY($1::text[]) ORDER BY subject FOR UPDATE", list(subjects))
    return {r["subject"]: ItemRow(item_from_json(json.loads(r["item"])), policy_from_json(json.loads(r["policy"])),
                                  json.loads(r["details"])) for r in rows}


async def save(conn: asyncpg.Connection, rows: Sequence[ItemRow]) -> None:
    """Insert or update items (in the caller's transaction)."""
    await conn.executemany(
        "INSERT INTO work_items (subject, repo, number, state, item, policy, details) "
        "VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7::jsonb) ON CONFLICT (subject) DO UPDATE SET "
        "state = excluded.state, item = excluded.item, policy = excluded.policy, details = excluded.details, "
        "updated_at = now()",
        [(r.item.subject, r.item.repo, r.item.number, r.item.state.value, json.dumps(item_to_json(r.item)),
          json.dumps(policy_to_json(r.policy)), json.dumps(r.details)) for r in rows])


@dataclass(frozen=True, slots=True)
class HistoryRow:
    """What one event did to one item."""

    subject: str
    event_id: str
    type: str
    key: str
    outcome: str
    """applied, duplicate, anomaly or ignored (a type the state machine does not route on)."""
    state_before: str | None
    state_after: str | None
    anomaly: str | None = None
    decisions: tuple[str, ...] = ()


async def record(conn: asyncpg.Connection, rows: Sequence[HistoryRow]) -> None:
    """Append history rows (in the caller's transaction)."""
    await conn.executemany(
        "INSERT INTO work_item_history (subject, event_id, type, key, outcome, state_before, state_after, anomaly, "
        "decisions) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb)",
        [(r.subject, r.event_id, r.type, r.key, r.outcome, r.state_before, r.state_after, r.anomaly,
          json.dumps(list(r.decisions))) for r in rows])


async def describe(conn: asyncpg.Connection, subject: str) -> dict[str, Any] | None:
    """The item's state and history as `GET /api/work-items/…` shows them; None when never seen."""
    row = await conn.fetchrow("SELECT state, item::text, details::text, created_at, updated_at FROM work_items "
                              "WHERE subject = $1", subject)
    if row is None:
        return None
    item = json.loads(row["item"])
    history = await conn.fetch(
        "SELECT event_id::text, type, key, outcome, state_before, state_after, anomaly, decisions::text, at "
        "FROM work_item_history WHERE subject = $1 ORDER BY seq", subject)
    assignments = await conn.fetch(
        "SELECT id::text, agent, kind, attempt, status, created_at, started_at, closed_at FROM assignments "
        "WHERE subject = $1 ORDER BY created_at", subject)
    keep = ("agent", "stack", "attempt", "pr_number", "branch", "reported_branch", "foreign_prs", "head_sha",
            "approved_sha", "review_round", "disputes", "fix_attempts", "merged", "merge_sha", "closed_completed",
            "budget_exceeded", "anomaly_count", "anomalies")
    return {
        "subject": subject, "state": row["state"], **{k: item.get(k) for k in keep},
        "title": json.loads(row["details"]).get("title", ""),
        "created_at": row["created_at"].isoformat(), "updated_at": row["updated_at"].isoformat(),
        "history": [{**dict(h), "decisions": json.loads(h["decisions"]), "at": h["at"].isoformat()}
                    for h in history],
        "assignments": [{k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in dict(a).items()}
                        for a in assignments],
    }
