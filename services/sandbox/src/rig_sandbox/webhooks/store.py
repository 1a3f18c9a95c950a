"""The sandbox's record of webhook deliveries: one SQLite file under `data_dir/sandbox/deliveries/`.

A row is written when an event is emitted (status `pending`) and completed by its one attempt; a redelivery
or a chaos duplicate is a row of its own with the same GUID, as on GitHub. Rows survive restarts: pending
rows are sent when the dispatcher starts again. SQLite calls are short local writes made on the caller's
thread under one lock, so `emit` can record an event without awaiting anything.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

PENDING = "pending"
"""Status of a delivery not attempted yet (such rows are not shown by the deliveries API)."""

StatusClass = Literal["success", "failure"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (
    id INTEGER PRIMARY KEY,
    guid TEXT NOT NULL,
    event TEXT NOT NULL,
    action TEXT,
    installation_id INTEGER,
    repository_id INTEGER,
    redelivery INTEGER NOT NULL,
    body TEXT NOT NULL,
    url TEXT,
    delivered_at TEXT,
    duration REAL NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'pending',
    status_code INTEGER NOT NULL DEFAULT 0,
    request_headers TEXT,
    response_headers TEXT,
    response_body TEXT
)
"""
_STATUS_RANGES: dict[StatusClass, tuple[int, int]] = {"success": (200, 399), "failure": (400, 599)}


@dataclass(frozen=True)
class Delivery:
    """One delivery of an event to the App's webhook, with GitHub's fields."""

    id: int
    guid: str
    event: str
    action: str | None
    installation_id: int | None
    repository_id: int | None
    redelivery: bool
    body: str
    """The exact JSON text sent (and signed); every attempt of this GUID sends the same bytes."""
    url: str | None
    delivered_at: str | None
    duration: float
    status: str
    status_code: int
    request_headers: dict[str, str] | None
    response_headers: dict[str, str] | None
    response_body: str | None

    @property
    def payload(self) -> dict[str, Any]:
        """The webhook payload (the decoded body)."""
        decoded: dict[str, Any] = json.loads(self.body)
        return decoded

    @property
    def attempted(self) -> bool:
        """Whether the delivery has had its attempt (pending ones have not)."""
        return self.status != PENDING


@dataclass(frozen=True)
class Attempt:
    """The outcome of sending a delivery once."""

    delivered_at: str
    duration: float
    status: str
    status_code: int
    url: str | None
    request_headers: dict[str, str] | None
    response_headers: dict[str, str] | None
    response_body: str | None


class DeliveryStore:
    """Deliveries in a SQLite file; safe to use from several threads."""

    def __init__(self, data_dir: Path) -> None:
        folder = data_dir / "sandbox" / "deliveries"
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / "deliveries.sqlite3"
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(_SCHEMA)

        self.closed = False

    def close(self) -> None:
        """Close the file; the store cannot be used afterwards."""
        with self._lock:
            self._db.close()
            self.closed = True

    def add(self, guid: str, event: str, payload: Mapping[str, Any], body: str, *, redelivery: bool = False) -> int:
        """Record a pending delivery of `payload`, sent as `body` (its JSON text), and return its new id."""
        installation = payload.get("installation")
        repository = payload.get("repository")
        row = (guid, event, _text_or_none(payload.get("action")), _id_of(installation), _id_of(repository),
               int(redelivery), body)
        with self._lock:
            cursor = self._db.execute(
                "INSERT INTO deliveries (guid, event, action, installation_id, repository_id, redelivery, body)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)", row,
            )
        assert cursor.lastrowid is not None  # an INSERT into a rowid table always sets it
        return cursor.lastrowid

    def complete(self, delivery_id: int, attempt: Attempt) -> None:
        """Record the outcome of a delivery's attempt."""
        with self._lock:
            self._db.execute(
                "UPDATE deliveries SET delivered_at = ?, duration = ?, status = ?, status_code = ?, url = ?,"
                " request_headers = ?, response_headers = ?, response_body = ? WHERE id = ?",
                (attempt.delivered_at, attempt.duration, attempt.status, attempt.status_code, attempt.url,
                 _json_or_none(attempt.request_headers), _json_or_none(attempt.response_headers),
                 attempt.response_body, delivery_id),
            )

    def get(self, delivery_id: int) -> Delivery | None:
        """The delivery with this id, pending or not; None when there is none."""
        with self._lock:
            row = self._db.execute("SELECT * FROM deliveries WHERE id = ?", (delivery_id,)).fetchone()
        return _delivery(row) if row is not None else None

    def attempted(self, *, before_id: int | None = None, status: StatusClass | None = None,
                  limit: int = 30) -> list[Delivery]:
        """Attempted deliveries, newest first, with an id below `before_id`, optionally by status class."""
        sql = "SELECT * FROM deliveries WHERE status != ?"
        args: list[Any] = [PENDING]
        if before_id is not None:
            sql += " AND id < ?"
            args.append(before_id)
        if status is not None:
            sql += " AND status_code BETWEEN ? AND ?"
            args.extend(_STATUS_RANGES[status])
        sql += " ORDER BY id DESC LIMIT ?"
        args.append(limit)
        with self._lock:
            rows = self._db.execute(sql, args).fetchall()
        return [_delivery(row) for row in rows]

    def pending_ids(self) -> list[int]:
        """Ids of the deliveries not attempted yet, oldest first."""
        with self._lock:
            rows = self._db.execute("SELECT id FROM deliveries WHERE status = ? ORDER BY id", (PENDING,)).fetchall()
        return [int(row["id"]) for row in rows]


def _delivery(row: sqlite3.Row) -> Delivery:
    return Delivery(
        id=row["id"], guid=row["guid"], event=row["event"], action=row["action"],
        installation_id=row["installation_id"], repository_id=row["repository_id"],
        redelivery=bool(row["redelivery"]), body=row["body"], url=row["url"], delivered_at=row["delivered_at"],
        duration=row["duration"], status=row["status"], status_code=row["status_code"],
        request_headers=_loads_or_none(row["request_headers"]),
        response_headers=_loads_or_none(row["response_headers"]),
        response_body=row["response_body"],
    )


def _id_of(value: object) -> int | None:
    """The integer `id` of a payload object such as `installation` or `repository`, if it has one."""
    if isinstance(value, dict) and isinstance(value.get("id"), int):
        return int(value["id"])
    return None


def _text_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _json_or_none(value: dict[str, str] | None) -> str | None:
    return json.dumps(value) if value is not None else None


def _loads_or_none(text: str | None) -> dict[str, str] | None:
    if text is None:
        return None
    decoded: dict[str, str] = json.loads(text)
    return decoded
