"""The request journal: the latest requests the sandbox's GitHub answered, as `GET /_sandbox/requests` shows them.

For people and tests that want to see what a client did on the wire: when each request came and how long it
took, who sent it (which App, user or credential kind, and a fingerprint of the credential, never the
credential itself), the status it got and the fault that answered it, if one did.
"""

from __future__ import annotations

import hashlib
import itertools
from collections import deque
from dataclasses import asdict, dataclass

from rig_sandbox.faults import path_pattern

JOURNAL_SIZE = 5000
"""How many of the latest requests the journal keeps."""


def fingerprint(credential: str) -> str:
    """What the journal shows of a token or JWT: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(credential.encode()).hexdigest()[:16]


@dataclass(slots=True)
class Entry:
    """One request: what, when, by whom, and how it was answered."""

    id: int
    at: float
    method: str
    path: str
    query: str
    credential: str | None
    """`jwt`, `installation`, `pat`, `unknown` (a credential the sandbox does not know) or None (anonymous)."""
    app: str | None
    login: str | None
    credential_sha256: str | None
    status: int = 0
    duration_s: float = 0.0
    fault: int | None = None

    def json(self) -> dict[str, object]:
        """The entry as the control API shows it."""
        return asdict(self)


class RequestJournal:
    """The latest `size` requests, oldest first (0: keeps none)."""

    def __init__(self, size: int = JOURNAL_SIZE) -> None:
        self._entries: deque[Entry] = deque(maxlen=size)
        self._ids = itertools.count(1)
        self._size = size

    def open(self, *, at: float, method: str, path: str, query: str, credential: str | None, app: str | None,
             login: str | None, credential_sha256: str | None) -> Entry:
        """A new entry, kept (when the journal keeps any) and completed by the caller once answered."""
        entry = Entry(next(self._ids), at, method, path, query, credential, app, login, credential_sha256)
        if self._size:
            self._entries.append(entry)
        return entry

    def entries(self, *, method: str | None = None, path: str | None = None, since: float | None = None,
                limit: int = 1000) -> list[Entry]:
        """The last `limit` answered entries with this method, path pattern (as faults match) and start time."""
        pattern = path_pattern(path) if path else None
        found = [entry for entry in self._entries
                 if entry.status and (method is None or entry.method == method.upper())
                 and (since is None or entry.at >= since)
                 and (pattern is None or pattern.fullmatch(entry.path) is not None)]
        return found[-limit:] if limit > 0 else []

    def clear(self) -> None:
        """Forget every entry."""
        self._entries.clear()
