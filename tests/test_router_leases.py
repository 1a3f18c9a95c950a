"""Router leases end to end: ingest and the router as real processes, the sandbox delivering with chaos on. An
assignment nobody acknowledges is signalled again after its start lease and reassigned (attempt + 1) after the
longer progress lease."""

from __future__ import annotations

import pytest
from router_system_support import conductor

from rig_contracts import Names
from rig_testing.waiting import eventually

REPO = "acme/leases"
FILES = {".rig-agent.yaml": "stack: python\n", "README.md": "# leases\n"}
LEASES = {"RIG_ROUTER_START_LEASE_S": "1", "RIG_ROUTER_PROGRESS_LEASE_S": "4", "RIG_ROUTER_MAX_ATTEMPTS": "3",
          "RIG_ROUTER_LEASE_SWEEP_S": "0.2"}


@pytest.mark.timeout(240)
async def test_an_unacknowledged_assignment_is_signalled_again_then_reassigned(
        tmp_path, database_url, redis_url, key_prefix, schema_suffix, redis):
    async with conductor(tmp_path, database_url=database_url, redis_url=redis_url, key_prefix=key_prefix,
                         schema_suffix=schema_suffix, redis=redis, extra_env=LEASES) as rig:
        await rig.sandbox.post("/repos", {"owner": "acme", "name": "leases", "files": FILES})
        number = await rig.issue(REPO, "Nobody picks this up")
        subject = f"{REPO}#{number}"
        [first] = await eventually(lambda: rig.published("ISSUE_ASSIGNED", subject), within_s=60,
                                   what="the first assignment")

        async def signalled() -> bool:
            return await rig.signals("dev-e-python") >= 1

        await eventually(signalled, within_s=30, what="the first wake entry")
        # An agent pops the wake but never takes the entry; wakes never pile (issue 14), so one comes back.
        assert await redis.lpop(Names(key_prefix).signal("dev-e-python")) is not None

        async def signalled_again() -> bool:
            return b"again:" in b"".join(await redis.lrange(Names(key_prefix).signal("dev-e-python"), 0, -1))

        await eventually(signalled_again, within_s=30, what="a wake entry again after the start lease")
        assert len(await rig.published("ISSUE_ASSIGNED", subject)) == 1  # signalled, not yet reassigned

        async def reassigned() -> list[dict[str, object]]:
            found = await rig.published("ISSUE_ASSIGNED", subject)
            return found if len(found) >= 2 else []

        second = (await eventually(reassigned, within_s=60, what="a reassignment after the progress lease"))[1]
        assert (first["data"]["attempt"], second["data"]["attempt"]) == (1, 2)
        assert second["data"]["assignment_id"] != first["data"]["assignment_id"]
        assert len(await rig.assignments("dev-e-python")) == 2
