"""Reservations: spend set aside before a run starts, so parallel runs cannot overshoot a cap together. Two agents
asking at the same moment against a budget that fits one get one reservation and one refusal; the refusal says
which budget and what to change; a finished run frees its reservation; a dead agent's expires; only an agent's own
token reserves, for itself."""

import asyncio
import uuid

import asyncpg
import httpx
import pytest

from rig_contracts import Names
from rig_contracts.catalogue import IssueAssignedEvent, RunFinishedEvent, RunStartedEvent
from rig_costs.handlers import costs_projection
from rig_db.pool import schema_name

ISSUE_CAP, RUN_CAP = 1.5, 1.0
REPO = "acme/budgeted"


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"costs_issue_budget_usd": ISSUE_CAP, "costs_run_budget_usd": RUN_CAP})


@pytest.fixture
def ask(costs, agent_headers):
    async def asking(who: str, number: int = 1, run_id: str | None = None) -> httpx.Response:
        body = {"run_id": run_id or str(uuid.uuid4()), "repo": REPO, "number": number}
        return await costs.post("/api/budgets/reservations", json=body, headers=agent_headers(who))
    return asking


async def test_two_agents_at_the_same_moment_get_one_reservation_and_one_refusal(ask):
    answers = await asyncio.gather(ask("dev-e-python"), ask("review-e"))
    assert sorted(a.status_code for a in answers) == [201, 409], [a.text for a in answers]
    granted = next(a for a in answers if a.status_code == 201).json()
    assert granted["allowance_usd"] == RUN_CAP and granted["expires_at"]
    refused = next(a for a in answers if a.status_code == 409).json()["detail"]
    assert refused["scope"] == "issue"
    assert f"{REPO}#1" in refused["reason"] and "$1.00 reserved" in refused["reason"]
    assert "RIG_COSTS_ISSUE_BUDGET_USD" in refused["reason"]
    # Another issue has its own budget; asking again for the admitted run answers the same admission.
    assert (await ask("dev-e-python", number=2)).status_code == 201
    again = await ask("dev-e-python" if answers[0].status_code == 201 else "review-e", run_id=granted["run_id"])
    assert again.status_code == 201 and again.json() == granted


async def test_a_finished_run_frees_its_reservation_and_counts_what_it_spent(ask, database_url, schema_suffix,
                                                                             key_prefix):
    run_id = str(uuid.uuid4())
    assert (await ask("dev-e-python", run_id=run_id)).status_code == 201
    assert (await ask("dev-e-python")).status_code == 409, "the first run holds $1.00 of $1.50"
    started = RunStartedEvent.of(source="agent:dev-e-python", subject=f"{REPO}#1", key=f"run:{run_id}:started",
                                 data={"repo": REPO, "number": 1, "run_id": run_id, "agent": "dev-e-python",
                                       "provider": "scripted", "model": "unknown-model"})
    finished = RunFinishedEvent.of(source="agent:dev-e-python", subject=f"{REPO}#1", key=f"run:{run_id}:finished",
                                   data={"repo": REPO, "number": 1, "run_id": run_id, "status": "succeeded",
                                         "cost_usd": 0.2})
    conn = await asyncpg.connect(database_url, server_settings={"search_path": schema_name("costs", schema_suffix)})
    try:
        await costs_projection(Names(key_prefix)).apply(conn, [started, finished])
    finally:
        await conn.close()
    # The run ended: its $1.00 is free again, and what it spent ($0 priced: an unknown model) counts.
    assert (await ask("dev-e-python")).status_code == 201


async def test_a_dead_agents_reservation_expires(ask, database_url, schema_suffix):
    run_id = str(uuid.uuid4())
    assert (await ask("dev-e-python", run_id=run_id)).status_code == 201
    assert (await ask("review-e")).status_code == 409
    conn = await asyncpg.connect(database_url, server_settings={"search_path": schema_name("costs", schema_suffix)})
    try:
        await conn.execute("UPDATE reservations SET expires_at = now() - interval '1 second' WHERE run_id = $1",
                           run_id)
    finally:
        await conn.close()
    assert (await ask("review-e")).status_code == 201


async def test_only_an_agents_token_reserves_and_only_for_itself(costs, agent_headers):
    body = {"run_id": "r-1", "repo": REPO, "number": 1}
    assert (await costs.post("/api/budgets/reservations", json=body)).status_code == 403  # a reader's token
    assert (await costs.post("/api/budgets/reservations", json=body | {"agent": "review-e"},
                             headers=agent_headers("dev-e-python"))).status_code == 403
    assert (await costs.post("/api/budgets/reservations", json=body | {"number": 0},
                             headers=agent_headers("dev-e-python"))).status_code == 422


async def test_a_repositorys_file_can_tighten_a_budget_never_loosen_it(ask, database_url, schema_suffix, key_prefix):
    def assigned(number: int, cap: float) -> IssueAssignedEvent:
        return IssueAssignedEvent.of(source="router", subject=f"{REPO}#{number}", key=f"assigned:{number}", data={
            "repo": REPO, "number": number, "agent": "dev-e-python", "stack": "python", "assignment_id": f"a{number}",
            "issue_budget_usd": cap})

    conn = await asyncpg.connect(database_url, server_settings={"search_path": schema_name("costs", schema_suffix)})
    try:  # issue 1's file allows $0.50 (under the run's $1.00); issue 2's $50 (the settings' $1.50 still holds)
        await costs_projection(Names(key_prefix)).apply(conn, [assigned(1, 0.5), assigned(2, 50.0)])
    finally:
        await conn.close()
    tight = await ask("dev-e-python", number=1)
    assert tight.status_code == 409 and "of $0.50" in tight.json()["detail"]["reason"], tight.text
    assert (await ask("dev-e-python", number=2)).status_code == 201
    assert (await ask("review-e", number=2)).status_code == 409, "the settings' $1.50 still caps issue 2"
