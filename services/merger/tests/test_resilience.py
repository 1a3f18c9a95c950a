"""The merge worker outlives its database connection: a terminated wake-up listener is replaced, and the next
request still wakes it at once (the idle re-check is set far beyond the test's patience)."""

import asyncpg
import pytest
from merger_support import REPO, World

from rig_merger.settings import MergerSettings
from rig_testing.waiting import eventually

LISTENERS = "SELECT pid FROM pg_stat_activity WHERE query = 'LISTEN \"rig_merger\"'"


@pytest.fixture
def settings(settings: MergerSettings) -> MergerSettings:
    return settings.model_copy(update={"merger_idle_check_s": 600.0})


async def test_a_killed_listener_is_replaced_and_requests_still_wake_the_worker(merger, people: World, requester,
                                                                                database_url) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        listeners = await eventually(lambda: conn.fetch(LISTENERS), what="the worker's listener")
        killed = {row["pid"] for row in listeners}
        for pid in killed:
            await conn.execute("SELECT pg_terminate_backend($1)", pid)

        async def replaced() -> bool:
            return any(row["pid"] not in killed for row in await conn.fetch(LISTENERS))
        await eventually(replaced, what="a new listener")
    finally:
        await conn.close()

    number, sha = await people.open_pull("after", {"src/after.py": "AFTER = 1\n"})
    await people.approve(number, sha)
    await people.check(sha, "success")
    answer = await merger.post("/api/merge", json={"repo": REPO, "pr_number": number, "head_sha": sha},
                               headers=requester)
    assert answer.status_code == 202

    async def merged() -> bool:
        return (await merger.get(f"/api/merge/{REPO}/{number}", headers=requester)).json()["state"] == "merged"
    await eventually(merged, what="the merge, woken by the request's notification")
