"""Trim a stream only below what every group has read and acknowledged (`XTRIM MINID`, never MAXLEN alone)."""

from __future__ import annotations

import asyncio
import logging

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from rig_bus.metrics import TRIMMED

log = logging.getLogger(__name__)

# Computed and applied in one script, so no group can move between the reading and the trim.
# For each group the first entry it still needs is its oldest pending entry, or else the one after its
# last-delivered id. The stream is trimmed below the smallest of those; with no group nothing is trimmed.
_TRIM_LUA = """
local function parse(id)
  local dash = string.find(id, '-')
  return tonumber(string.sub(id, 1, dash - 1)), tonumber(string.sub(id, dash + 1))
end
local function less(a_ms, a_seq, b_ms, b_seq)
  return a_ms < b_ms or (a_ms == b_ms and a_seq < b_seq)
end
if redis.call('EXISTS', KEYS[1]) == 0 then return {0, ''} end
local groups = redis.call('XINFO', 'GROUPS', KEYS[1])
if #groups == 0 then return {0, ''} end
local min_ms, min_seq = nil, nil
for _, g in ipairs(groups) do
  local info = {}
  for i = 1, #g, 2 do info[g[i]] = g[i + 1] end
  local ms, seq
  local pending = redis.call('XPENDING', KEYS[1], info['name'])
  if tonumber(pending[1]) > 0 then
    ms, seq = parse(pending[2])
  else
    ms, seq = parse(info['last-delivered-id'])
    seq = seq + 1
  end
  if min_ms == nil or less(ms, seq, min_ms, min_seq) then min_ms, min_seq = ms, seq end
end
local floor = string.format('%d-%d', min_ms, min_seq)
return {redis.call('XTRIM', KEYS[1], 'MINID', floor), floor}
"""


class Trimmer:
    """Trims a stream below its slowest consumer group."""

    def __init__(self, client: aioredis.Redis) -> None:
        self._script = client.register_script(_TRIM_LUA)

    async def trim(self, stream: str) -> tuple[int, str]:
        """Trim `stream`; return how many entries went and the id below which they went ('' if none could)."""
        removed, floor = await self._script(keys=[stream])
        TRIMMED.labels(stream).inc(int(removed))
        return int(removed), floor.decode() if isinstance(floor, bytes) else str(floor)


async def trim_forever(client: aioredis.Redis, stream: str, every_s: float = 60.0) -> None:
    """Trim `stream` every `every_s` seconds; a failed pass is logged and retried at the next tick."""
    trimmer = Trimmer(client)
    while True:
        try:
            removed, floor = await trimmer.trim(stream)
            if removed:
                log.info("trimmed %d entries of %s below %s", removed, stream, floor)
        except (RedisError, OSError) as error:
            log.warning("trimming %s failed (%s); next try in %.0fs", stream, error, every_s)
        await asyncio.sleep(every_s)
