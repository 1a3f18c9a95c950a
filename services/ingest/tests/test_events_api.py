"""`POST /api/events` in our catalogue's form, with our tokens: who may post what, validation, idempotency."""

from typing import Any

import pytest
from ingest_support import outbox_events
from reports_support import AGENT, REPO, bearer, settings_with

from rig_contracts import new_event_id
from rig_identity import generate_keypair
from rig_ingest.settings import IngestSettings

SUBJECT = f"{REPO}#7"


@pytest.fixture
def keys() -> tuple[str, str]:
    return generate_keypair()


@pytest.fixture
def settings(keys, database_url, redis_url, key_prefix, schema_suffix, tmp_path) -> IngestSettings:
    return settings_with(keys, database_url, redis_url, key_prefix, schema_suffix, str(tmp_path))


@pytest.fixture
def agent(keys) -> dict[str, str]:
    return bearer(keys, f"agent:{AGENT}", "events:write")


def work_started(**fields) -> dict[str, Any]:
    return {"type": "WORK_STARTED", "subject": SUBJECT, "data": {"repo": REPO, "number": 7, "branch": "agent/7"},
            **fields}


async def test_an_agent_reports_work_started_stored_through_the_outbox(client, agent, database_url, schema):
    response = await client.post("/api/events", json=work_started(), headers=agent)
    assert response.status_code == 202, response.text
    (event,) = await outbox_events(database_url, schema)
    assert response.json() == {"id": event.id, "duplicate": False}
    assert (event.type, event.source, event.subject) == ("WORK_STARTED", f"agent:{AGENT}", SUBJECT)
    assert event.data.agent == AGENT, "the speaker field is taken from the token"
    assert event.data.branch == "agent/7" and event.key.startswith(f"work_started:agent:{AGENT}:")


async def test_a_person_reports_a_pr_and_a_heartbeat(client, keys, database_url, schema):
    alice = bearer(keys, "human:alice", "events:write")
    pr = {"type": "PR_REPORTED", "subject": SUBJECT, "key": f"pr-reported:{REPO}#12:alice",
          "data": {"repo": REPO, "pr_number": 12, "url": "https://example.test/pr/12", "reporter": "alice"}}
    beat = {"type": "AGENT_HEARTBEAT", "subject": "human:alice", "data": {"status": "busy"}}
    assert (await client.post("/api/events", json=pr, headers=alice)).status_code == 202
    assert (await client.post("/api/events", json=beat, headers=alice)).status_code == 202
    reported, heartbeat = await outbox_events(database_url, schema)
    assert (reported.type, reported.source) == ("PR_REPORTED", "human:alice")
    assert reported.key == f"reported:human:alice:{pr['key']}", "a client's key lives in its source's namespace"
    assert (reported.data.pr_number, reported.data.reporter) == (12, "alice")
    assert (heartbeat.data.agent, heartbeat.data.status) == ("alice", "busy")


@pytest.mark.parametrize("body", [
    {"type": "PR_CREATED", "subject": SUBJECT, "data": {}},
    {"type": "MERGED", "subject": SUBJECT, "data": {}},
    {"type": "ISSUE_ASSIGNED", "subject": SUBJECT, "data": {}},
    {"type": "ISSUE_DONE", "subject": SUBJECT, "data": {}},
    {"type": "TOKEN_REVOKED", "subject": "token:x", "data": {"jti": "x"}},
])
async def test_github_facts_and_decisions_are_refused(client, agent, body, database_url, schema):
    response = await client.post("/api/events", json=body, headers=agent)
    assert response.status_code == 403, response.text
    assert body["type"] in response.json()["detail"]
    assert await outbox_events(database_url, schema) == []


async def test_a_person_may_not_post_an_agents_run(client, keys):
    alice = bearer(keys, "human:alice", "events:write")
    body = {"type": "RUN_STARTED", "subject": SUBJECT,
            "data": {"repo": REPO, "number": 7, "run_id": "r1", "agent": "alice"}}
    response = await client.post("/api/events", json=body, headers=alice)
    assert response.status_code == 403 and "RUN_STARTED" in response.json()["detail"]


async def test_speaking_as_another_source_or_agent_is_refused(client, agent, database_url, schema):
    as_other = await client.post("/api/events", json=work_started(source="agent:review-e"), headers=agent)
    other_data = work_started()
    other_data["data"]["agent"] = "review-e"
    in_data = await client.post("/api/events", json=other_data, headers=agent)
    assert (as_other.status_code, in_data.status_code) == (403, 403)
    assert "agent:review-e" in as_other.json()["detail"] and "review-e" in in_data.json()["detail"]
    assert await outbox_events(database_url, schema) == []


async def test_wrong_type_or_payload_is_422_saying_what_is_wrong(client, agent):
    unknown = await client.post("/api/events", json={"type": "COFFEE_MADE", "subject": SUBJECT, "data": {}},
                                headers=agent)
    assert unknown.status_code == 422 and "COFFEE_MADE" in unknown.json()["detail"]
    bad = work_started()
    bad["data"]["number"] = "seven"
    payload = await client.post("/api/events", json=bad, headers=agent)
    assert payload.status_code == 422
    assert any(problem["loc"][-1] == "number" for problem in payload.json()["detail"]), payload.text
    extra = await client.post("/api/events", json=work_started(colour="red"), headers=agent)
    assert extra.status_code == 422 and extra.json()["detail"][0]["loc"] == ["colour"]
    not_json = await client.post("/api/events", content=b"{nope", headers=agent)
    assert not_json.status_code == 400
    array = await client.post("/api/events", json=[1, 2], headers=agent)
    assert array.status_code == 422


async def test_tokens_are_required_with_the_scope(client, keys):
    none = await client.post("/api/events", json=work_started())
    reader = await client.post("/api/events", json=work_started(), headers=bearer(keys, f"agent:{AGENT}", "read"))
    forged = await client.post("/api/events", json=work_started(),
                               headers=bearer(generate_keypair(), f"agent:{AGENT}", "events:write"))
    assert (none.status_code, reader.status_code, forged.status_code) == (401, 403, 401)
    assert "events:write" in reader.json()["detail"]


async def test_a_repeated_client_id_or_key_returns_the_first_event(client, agent, keys, database_url, schema):
    event_id = new_event_id()
    first = await client.post("/api/events", json=work_started(id=event_id), headers=agent)
    again = await client.post("/api/events", json=work_started(id=event_id), headers=agent)
    keyed = await client.post("/api/events", json=work_started(key="started:octo/widgets#7:1"), headers=agent)
    keyed_again = await client.post("/api/events", json=work_started(key="started:octo/widgets#7:1"), headers=agent)
    assert first.json() == {"id": event_id, "duplicate": False}
    assert again.status_code == 202 and again.json() == {"id": event_id, "duplicate": True}
    assert keyed_again.json() == {"id": keyed.json()["id"], "duplicate": True}
    assert [e.id for e in await outbox_events(database_url, schema)] == [event_id, keyed.json()["id"]]
    other = bearer(keys, "agent:review-e", "events:write")
    stolen = await client.post("/api/events", json=work_started(id=event_id), headers=other)
    assert stolen.status_code == 409, "an id another source used is neither reused nor revealed"


async def test_a_body_over_the_limit_is_413(keys, database_url, redis_url, key_prefix, schema_suffix, tmp_path):
    import httpx

    from rig_ingest.app import create_app
    small = settings_with(keys, database_url, redis_url, key_prefix, schema_suffix, str(tmp_path),
                          max_body_bytes=200)
    app = create_app(small)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://ingest") as http:
        assert (await http.get("/readyz")).status_code == 200
        body = work_started()
        body["data"]["branch"] = "b" * 300
        response = await http.post("/api/events", json=body, headers=bearer(keys, f"agent:{AGENT}", "events:write"))
    assert response.status_code == 413
