"""The sandbox's memory: one `State` document kept in memory and written atomically to disk after each change.

Changes happen on the event loop (so each is whole between two awaits); `save()` snapshots the document
there and writes it from a worker thread, one write at a time, through a temporary file and a rename, so a
crash leaves either the old or the new file and a restart finds everything as it was.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from rig_sandbox.records import Account, AccountType, Repo, State


class Store:
    """Holds the `State`, hands out ids, and saves the state to `{root}/state.json`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.path = root / "state.json"
        self.state = State.model_validate_json(self.path.read_bytes()) if self.path.exists() else State()
        self._write_lock = asyncio.Lock()

    def new_id(self) -> int:
        """A fresh numeric id, unique across every kind of record (as GitHub's are within a kind)."""
        self.state.next_id += 1
        return self.state.next_id

    async def save(self) -> None:
        """Write the current state to disk (atomically, off the event loop)."""
        data = self.state.model_dump_json().encode()
        async with self._write_lock:
            await asyncio.to_thread(_write_atomically, self.path, data)

    def account(self, login: str, kind: AccountType = "User", name: str | None = None) -> Account:
        """The account named `login`, created (with `kind`) the first time it is named."""
        key = login.lower()
        found = self.state.accounts.get(key)
        if found is None:
            found = Account(login=login, id=self.new_id(), type=kind, name=name)
            self.state.accounts[key] = found
        return found

    def find_account(self, login: str) -> Account | None:
        """The account named `login`, if it exists."""
        return self.state.accounts.get(login.lower())

    def repo(self, owner: str, name: str) -> Repo | None:
        """The repository `owner/name` (case-insensitive, as on GitHub), if it exists."""
        return self.state.repos.get(f"{owner}/{name}".lower())

    def add_repo(self, repo: Repo) -> None:
        """Remember a new repository."""
        self.state.repos[repo.full_name.lower()] = repo


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    with temporary.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
