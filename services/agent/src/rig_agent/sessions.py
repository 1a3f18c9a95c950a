"""`session:{owner/repo}#{N}` (docs/design.md section 3): the provider session a dispute resumes, kept 7 days."""

from __future__ import annotations

import redis.asyncio as aioredis

from rig_contracts import Names

SESSION_TTL_S = 7 * 24 * 3600


class Sessions:
    """Provider session ids per work item, in Valkey."""

    def __init__(self, client: aioredis.Redis, names: Names) -> None:
        self._client = client
        self._names = names

    async def get(self, repo: str, number: int) -> str | None:
        """The session to resume for the item, if one was kept."""
        value = await self._client.get(self._names.session(repo, number))
        return value.decode() if isinstance(value, bytes) else value

    async def put(self, repo: str, number: int, session_id: str) -> None:
        """Keep `session_id` for the item for 7 more days."""
        await self._client.set(self._names.session(repo, number), session_id, ex=SESSION_TTL_S)

    async def forget(self, repo: str, number: int) -> None:
        """The session could not be resumed: the next run starts fresh."""
        await self._client.delete(self._names.session(repo, number))
