"""Idempotent publishing (docs/design.md section 4): one server-side script records each id and appends, or skips."""

from __future__ import annotations

from collections.abc import Sequence

import redis.asyncio as aioredis

from rig_bus.messages import Outgoing
from rig_bus.metrics import DUPLICATES, PUBLISHED
from rig_contracts import Names

PUBLISH_TTL_SECONDS = 8 * 24 * 3600
"""How long `published:{id}` is kept: longer than the outbox keeps rows (7 days), so a republish is recognised."""

# KEYS: per message (published marker, stream, wake list or the marker again when none).
# ARGV: ttl, then per message the number of field/value pairs followed by the pairs.
# Returns per message the new entry id, or false when the id had been published before.
_PUBLISH_LUA = """
local ttl = tonumber(ARGV[1])
local results = {}
local a = 2
for i = 1, #KEYS, 3 do
  local n = tonumber(ARGV[a])
  local marker, stream, signal = KEYS[i], KEYS[i + 1], KEYS[i + 2]
  if redis.call('SET', marker, '1', 'NX', 'EX', ttl) then
    local args = {}
    for j = 1, 2 * n do args[j] = ARGV[a + j] end
    local entry = redis.call('XADD', stream, '*', unpack(args))
    if signal ~= marker then redis.call('LPUSH', signal, entry) end
    results[#results + 1] = entry
  else
    results[#results + 1] = false
  end
  a = a + 1 + 2 * n
end
return results
"""

MAX_SCRIPT_BATCH = 500
"""Messages per script call: big enough to amortise the round trip, small enough not to stall Redis."""


class Publisher:
    """Appends messages exactly once per event id, pushing an assignment's wake signal in the same step."""

    def __init__(self, client: aioredis.Redis, names: Names, ttl_seconds: int = PUBLISH_TTL_SECONDS) -> None:
        self._client = client
        self._names = names
        self._ttl = ttl_seconds
        self._script = client.register_script(_PUBLISH_LUA)

    async def publish(self, messages: Sequence[Outgoing]) -> list[str | None]:
        """Publish `messages` in order; return each new entry id, or None where the id was already published."""
        results: list[str | None] = []
        for start in range(0, len(messages), MAX_SCRIPT_BATCH):
            results.extend(await self._publish_chunk(messages[start:start + MAX_SCRIPT_BATCH]))
        return results

    async def _publish_chunk(self, messages: Sequence[Outgoing]) -> list[str | None]:
        keys: list[str] = []
        args: list[str | int] = [self._ttl]
        for message in messages:
            marker = self._names.published(message.event_id)
            keys += [marker, message.stream, message.signal or marker]
            args.append(len(message.fields))
            for name, value in message.fields.items():
                args += [name, value]
        raw = await self._script(keys=keys, args=args)
        results = [entry.decode() if isinstance(entry, bytes) else None for entry in raw]
        for message, entry in zip(messages, results, strict=True):
            (PUBLISHED if entry else DUPLICATES).labels(message.stream).inc()
        return results
