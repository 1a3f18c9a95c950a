"""The costs service on a recorded event sequence: runs, steps, prices and every roll-up, against sums computed in
the test; then a rebuild from the same events gives the same answers."""

import csv
import io
from decimal import Decimal
from typing import Any

import pytest
from costs_support import BUCKETS, RUNS, cost, events_of, expected, publish, recorded

from rig_contracts import Names
from rig_costs.domain import GROUPS
from rig_kit.rebuild import END_FIELD, replay_entry
from rig_testing.waiting import eventually

CENT = Decimal("0.01")


async def projected(costs) -> None:
    """Wait until every run and run-1's duplicate have been applied (the call outside a run comes last)."""
    async def done() -> bool:
        answer = (await costs.get("/api/runs", params={"limit": 100})).json()
        assert "runs" in answer, answer
        page = answer["runs"]
        finished = sum(1 for r in page if r["status"] != "running")
        usage = (await costs.get("/api/usage")).json()
        return len(page) == len(RUNS) and finished == len(RUNS) - 1 and usage["calls"] == 1
    await eventually(done, what="the recorded runs to be projected")


def as_cents(value: str | Decimal | None) -> Decimal | None:
    return None if value is None else Decimal(value).quantize(CENT)


async def roll_ups(costs) -> dict[str, Any]:
    return {g: (await costs.get("/api/costs", params={"group_by": g})).json() for g in GROUPS}


@pytest.fixture
async def fed(costs, redis, key_prefix):
    await publish(redis, Names(key_prefix), recorded())
    await projected(costs)
    return costs


async def test_every_roll_up_equals_the_sums_computed_independently(fed):
    for group_by in GROUPS:
        answer = (await fed.get("/api/costs", params={"group_by": group_by})).json()
        want = expected(group_by)
        got = {g["key"]: g for g in answer["groups"]}
        assert set(got) == set(want), group_by
        for key, group in want.items():
            shown = got[key]
            assert shown["runs"] == group["runs"], (group_by, key)
            assert {b: shown[f"{b}_tokens"] for b in BUCKETS} == {b: group[f"{b}_tokens"] for b in BUCKETS}, key
            assert shown["unpriced"] == group["unpriced"], (group_by, key)
            assert as_cents(shown["cost_usd"] or "0") == as_cents(group["cost"]), (group_by, key)
            assert Decimal(shown["cost_usd"] or "0") == group["cost"], "exact, not only to the cent"
            assert shown["basis"] == "API-equivalent"
            hit = shown["cache_hit_rate"]
            read, fed_in = group["cache_read_tokens"], group["input_tokens"] + group["cache_write_tokens"]
            assert hit == (None if read + fed_in == 0 else pytest.approx(read / (read + fed_in))), (group_by, key)
        total = answer["total"]
        assert as_cents(total["cost_usd"]) == as_cents(sum((g["cost"] for g in want.values()), Decimal(0)))
        assert total["input_tokens"] == sum(g["input_tokens"] for g in want.values()), "no token counted twice"


async def test_each_issue_total_is_the_sum_of_its_runs(fed):
    issues = {g["key"]: g for g in (await fed.get("/api/costs", params={"group_by": "issue"})).json()["groups"]}
    for issue in ("acme/app#1", "acme/lib#7"):
        runs = [r for r in RUNS if r.subject == issue]
        priced = [c for r in runs if (c := cost(r.model, r.total())) is not None]
        assert Decimal(issues[issue]["cost_usd"]) == sum(priced, Decimal(0))
        assert issues[issue]["runs"] == len(runs), "dev, review, retries and fixes alike"
    one = (await fed.get("/api/costs", params={"group_by": "agent", "issue": "acme/app#1"})).json()
    assert {g["key"] for g in one["groups"]} == {"dev-e-python", "review-e"}


async def test_a_run_shows_its_summary_steps_and_both_costs(fed):
    run = (await fed.get("/api/runs/run-3")).json()
    assert (run["agent"], run["subject"], run["number"], run["status"]) == ("review-e", "acme/app#1", 11, "succeeded")
    assert [s["step"] for s in run["steps"]] == ["diff", "provider", "review"]
    assert Decimal(run["cost_usd"]) == cost("claude-sonnet-4-5", RUNS[2].total())
    assert Decimal(run["provider_cost_usd"]) != Decimal(run["cost_usd"])
    assert run["cost_gap"] is True, "a 5% gap is flagged"
    assert run["price_source"].startswith("genai-prices ")
    assert (await fed.get("/api/runs/run-1")).json()["cost_gap"] is False

    unknown = (await fed.get("/api/runs/run-5")).json()
    assert unknown["cost_usd"] is None and unknown["priced"] is False, "an unknown model is unpriced, not $0"
    assert unknown["steps"][0]["cost_usd"] is None

    codex = (await fed.get("/api/runs/run-4")).json()
    assert codex["cache_read_tokens"] == 180_000 and codex["input_tokens"] == 20_000
    assert Decimal(codex["cost_usd"]) == Decimal("0.1075")  # 20k * 1.25 + 6k * 10 + 180k * 0.125, per million

    going = (await fed.get("/api/runs/run-7")).json()
    assert going["status"] == "running" and going["finished_at"] is None
    assert Decimal(going["cost_usd"]) == cost("gpt-5-codex", RUNS[6].total()), "its cost so far"
    assert (await fed.get("/api/runs/nothing")).status_code == 404


async def test_runs_are_filtered_and_paged_by_cursor(fed):
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await fed.get("/api/runs", params=params)).json()
        seen += [r["run_id"] for r in page["runs"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [r.run_id for r in sorted(RUNS, key=lambda r: r.start, reverse=True)]

    async def ids(**params) -> list[str]:
        return sorted(r["run_id"] for r in (await fed.get("/api/runs", params=params)).json()["runs"])
    assert await ids(agent="review-e") == ["run-3", "run-6"]
    assert await ids(issue="acme/lib#7", status="failed") == ["run-5"]
    assert await ids(repo="ACME/app") == ["run-1", "run-2", "run-3"]
    assert await ids(**{"from": "2026-11-03", "to": "2026-11-03T13:00:00Z"}) == ["run-4", "run-5", "run-6"]
    assert (await fed.get("/api/runs", params={"cursor": "not-a-cursor"})).status_code == 422
    assert (await fed.get("/api/costs", params={"group_by": "colour"})).status_code == 422


async def test_reads_need_a_token_with_read_scope(fed):
    for path in ("/api/runs", "/api/runs/run-1", "/api/costs", "/api/usage"):
        assert (await fed.get(path, headers={"Authorization": ""})).status_code == 401, path


async def test_a_rebuild_from_the_same_events_gives_the_same_roll_ups(fed, redis, key_prefix, admin):
    before = await roll_ups(fed)
    names = Names(key_prefix)
    begun = (await fed.post("/api/admin/costs/rebuild", json={}, headers=admin)).json()
    assert (await fed.get("/api/runs")).json()["runs"] == [], "a rebuild from scratch starts empty"
    for seq, event in enumerate(recorded(), start=1):
        await redis.xadd(names.replay("costs"), replay_entry(seq, event.to_json()))
    await redis.xadd(names.replay("costs"), {END_FIELD: begun["rebuild_id"], "last_seq": "0"})

    async def live() -> bool:
        return (await fed.get("/api/admin/costs/rebuild", headers=admin)).json()["state"] == "live"
    await eventually(live, what="the rebuild to finish")
    assert await roll_ups(fed) == before


async def test_output_lines_are_kept_in_order_per_run_and_survive_a_rebuild(fed, redis, key_prefix, admin):
    names = Names(key_prefix)
    for n in range(30):  # two runs' lines interleaved, as two agents write them
        run = "run-2" if n % 3 else "run-6"
        await redis.xadd(names.runlogs, {"agentId": "dev-e-python", "runId": run, "ts": f"t{n}", "level": "info",
                                         "message": f"line {n} of {run}", "repo": "acme/app", "issueNumber": "1"})
    await redis.xadd(names.runlogs, {"agentId": "dev-e-base", "ts": "t", "level": "warn", "message": "idle"})
    want = [f"line {n} of run-2" for n in range(30) if n % 3]

    async def stored() -> bool:
        return [x["message"] for x in (await fed.get("/api/runs/run-2")).json()["lines"]] == want
    await eventually(stored, what="run-2's lines in order")
    page = (await fed.get("/api/runs/run-2/lines", params={"after": 15, "limit": 100})).json()
    assert [x["message"] for x in page["lines"]] == want[15:] and page["next_after"] == len(want)
    assert len((await fed.get("/api/runs/run-6")).json()["lines"]) == 10

    begun = (await fed.post("/api/admin/costs/rebuild", json={}, headers=admin)).json()
    await redis.xadd(names.replay("costs"), {END_FIELD: begun["rebuild_id"], "last_seq": "0"})
    assert [x["message"] for x in (await fed.get("/api/runs/run-2/lines")).json()["lines"]] == want


async def test_metrics_count_cost_and_tokens_by_agent_repository_and_model(fed):
    text = (await fed.get("/metrics")).text
    sonnet = 'agent="review-e",model="claude-sonnet-4-5",repo="acme/lib"'
    assert f"rig_costs_cost_usd_total{{{sonnet}}}" in text
    assert 'rig_costs_tokens_total{agent="dev-e-node",bucket="cache_read",model="gpt-5-codex",repo="acme/lib"}' in text
    assert 'rig_costs_unpriced_runs_total{agent="dev-e-node",model="mystery-model-9",repo="acme/lib"}' in text


async def test_runs_and_roll_ups_export_as_csv(fed):
    answer = await fed.get("/api/runs", params={"format": "csv", "limit": 4})
    assert answer.headers["content-type"].startswith("text/csv") and answer.headers["x-next-cursor"]
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert [r["run_id"] for r in rows] == [r.run_id for r in sorted(RUNS, key=lambda r: r.start, reverse=True)][:4]
    unpriced = next(r for r in rows if r["run_id"] == "run-5")
    assert unpriced["cost_usd"] == "", "unpriced is an empty cell, not 0"

    issues = list(csv.DictReader(io.StringIO((await fed.get("/api/costs", params={"group_by": "issue",
                                                                                   "format": "csv"})).text)))
    want = expected("issue")
    assert {r["key"]: Decimal(r["cost_usd"]) for r in issues} == {k: g["cost"] for k, g in want.items()}


async def test_a_runs_events_in_any_order_leave_the_same_row(costs, redis, key_prefix):
    run = RUNS[3]  # the Codex run: steps before its start, its end before its steps
    events = events_of(run)
    await publish(redis, Names(key_prefix), [events[2], events[-1], events[1], events[0], events[3], events[2]])

    async def shown() -> bool:
        found = await costs.get(f"/api/runs/{run.run_id}")
        return found.status_code == 200 and found.json()["status"] == "succeeded" and len(found.json()["steps"]) == 3
    await eventually(shown, what="the run in whatever order its events came")
    found = (await costs.get(f"/api/runs/{run.run_id}")).json()
    assert Decimal(found["cost_usd"]) == cost(run.model, run.total()) and found["agent"] == run.agent
    assert found["input_tokens"] == run.total().input, "RUN_FINISHED's totals, not its steps added on top"
    assert [Decimal(s["cost_usd"]) for s in found["steps"]] == [cost(run.model, t) for _, t in run.steps]
