"""The public agent runtime's calls (docs/design.md section 9), posted exactly as that runtime sends them (no token),
from a trusted network, and mapped onto our catalogue."""

import asyncio
import json
import logging
from typing import Any

import httpx
import pytest
from ingest_support import outbox_events
from reports_support import AGENT, REPO, RUNTIME_HOST, RUNTIME_NETWORK, bearer, settings_with

from rig_identity import generate_keypair
from rig_ingest.app import create_app
from rig_ingest.settings import IngestSettings

SUBJECT = f"{REPO}#42"


@pytest.fixture
def keys() -> tuple[str, str]:
    return generate_keypair()


@pytest.fixture
def settings(keys, database_url, redis_url, key_prefix, schema_suffix, tmp_path) -> IngestSettings:
    # httpx's ASGI transport calls from 127.0.0.1, so this trusts the test's token-less calls.
    return settings_with(keys, database_url, redis_url, key_prefix, schema_suffix, str(tmp_path),
                         trusted_networks=[RUNTIME_NETWORK])


async def open_run(client, **extra) -> str:
    body = {"repo": REPO, "issueNumber": 42, "agentId": AGENT, "status": "running", "model": "claude-sonnet-4-5",
            "steps": [], **extra}
    response = await client.post("/api/execution-logs", json=body)
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def test_an_execution_log_becomes_a_run(client, database_url, schema):
    run_id = await open_run(client)
    step = {"type": "provider", "status": "succeeded", "detail": "implemented the fix", "costUsd": 0.42, "turns": 7}
    assert (await client.post(f"/api/execution-logs/{run_id}/steps", json=step)).status_code == 200
    done = {"status": "completed", "totalCostUsd": 0.57, "totalTurns": 9, "totalInputTokens": 1200,
            "totalOutputTokens": 3400, "cacheReadTokens": 56000, "cacheCreationTokens": 7800, "durationApiMs": 61000,
            "prNumber": 43}
    complete = await client.post(f"/api/execution-logs/{run_id}/complete", json=done)
    assert complete.status_code == 200, complete.text
    started, stepped, finished = await outbox_events(database_url, schema)

    assert (started.type, started.source, started.subject, started.key) == (
        "RUN_STARTED", f"agent:{AGENT}", SUBJECT, f"run:{run_id}:started")
    assert (started.data.repo, started.data.number, started.data.run_id, started.data.agent, started.data.model) == (
        REPO, 42, run_id, AGENT, "claude-sonnet-4-5")

    assert (stepped.type, stepped.subject, stepped.key) == ("RUN_STEP", SUBJECT, f"run:{run_id}:step:1")
    assert (stepped.data.run_id, stepped.data.step, stepped.data.status, stepped.data.detail) == (
        run_id, "provider", "succeeded", "implemented the fix")
    assert (stepped.data.cost_usd, stepped.data.turns) == (0.42, 7)

    assert (finished.type, finished.subject, finished.key) == ("RUN_FINISHED", SUBJECT, f"run:{run_id}:finished")
    data = finished.data
    assert (data.run_id, data.status, data.turns, data.cost_usd, data.duration_api_ms, data.pr_number) == (
        run_id, "succeeded", 9, 0.57, 61000, 43)
    assert (data.usage.input_tokens, data.usage.output_tokens, data.usage.cache_read_tokens,
            data.usage.cache_write_tokens) == (1200, 3400, 56000, 7800)
    assert data.duration_ms >= 0 and complete.json()["id"] == finished.id

    again = await client.post(f"/api/execution-logs/{run_id}/complete", json=done)
    assert again.json() == {"id": finished.id, "duplicate": True}, "a repeated completion is the same RUN_FINISHED"
    assert len(await outbox_events(database_url, schema)) == 3


async def test_steps_listed_at_the_opening_are_run_steps(client, database_url, schema):
    run_id = await open_run(client, steps=[{"type": "clone", "status": "succeeded"},
                                           {"type": "install", "status": "started"}])
    await client.post(f"/api/execution-logs/{run_id}/steps", json={"type": "test", "status": "failed"})
    events = await outbox_events(database_url, schema)
    assert [(e.type, e.key) for e in events] == [
        ("RUN_STARTED", f"run:{run_id}:started"), ("RUN_STEP", f"run:{run_id}:step:1"),
        ("RUN_STEP", f"run:{run_id}:step:2"), ("RUN_STEP", f"run:{run_id}:step:3")]
    assert [e.data.step for e in events[1:]] == ["clone", "install", "test"]


async def test_calls_on_an_unknown_run_are_404(client):
    for path in ("steps", "complete", "logs"):
        unknown = await client.post(f"/api/execution-logs/0192f0c4-2b5e-7cc0-8000-000000000000/{path}", json={})
        garbage = await client.post(f"/api/execution-logs/not-a-run/{path}", json={})
        assert (unknown.status_code, garbage.status_code) == (404, 404)


async def test_runtime_events_map_onto_the_catalogue(client, database_url, schema):
    common = {"agentId": AGENT, "repo": REPO, "issueNumber": 42}
    posts = [
        {"type": "HEARTBEAT", **common},
        {"type": "TOKEN_USAGE", **common, "model": "claude-haiku-4-5", "inputTokens": 900, "outputTokens": 80,
         "costUsd": 0.0013, "category": "idle"},
        {"type": "WORK_STARTED", **common, "branch": "agent/issue-42"},
        {"type": "PR_CREATED", **common, "prNumber": 43, "prUrl": f"https://github.com/{REPO}/pull/43",
         "branch": "agent/issue-42"},
        {"type": "AGENT_STUCK", **common, "reason": "tests need a database"},
        {"type": "ESCALATED", **common, "reason": "needs Xcode (requires-macos)"},
    ]
    for body in posts:
        response = await client.post("/api/events", json=body)
        assert response.status_code == 202, (body["type"], response.text)
    beat, usage, started, reported, stuck, escalated = await outbox_events(database_url, schema)
    for event in (beat, usage, started, reported, stuck, escalated):
        assert (event.source, event.subject) == (f"agent:{AGENT}", SUBJECT)
    assert (beat.type, beat.data.agent, beat.data.status, beat.data.current_task) == (
        "AGENT_HEARTBEAT", AGENT, "online", SUBJECT)
    assert beat.key.startswith(f"heartbeat:{AGENT}:")
    assert (usage.type, usage.data.model, usage.data.category, usage.data.cost_usd) == (
        "TOKEN_USAGE", "claude-haiku-4-5", "idle", 0.0013)
    assert (usage.data.usage.input_tokens, usage.data.usage.output_tokens) == (900, 80)
    assert (started.type, started.data.repo, started.data.number, started.data.branch) == (
        "WORK_STARTED", REPO, 42, "agent/issue-42")
    assert (reported.type, reported.key) == ("PR_REPORTED", f"pr-reported:{REPO}#43:{AGENT}")
    assert (reported.data.pr_number, reported.data.url, reported.data.branch, reported.data.reporter) == (
        43, f"https://github.com/{REPO}/pull/43", "agent/issue-42", AGENT)
    assert (stuck.type, stuck.data.agent, stuck.data.reason) == ("AGENT_STUCK", AGENT, "tests need a database")
    assert (escalated.type, escalated.data.reason) == ("ISSUE_ESCALATED", "needs Xcode (requires-macos)")


async def test_unknown_or_incomplete_runtime_events_are_422(client, database_url, schema):
    unknown = await client.post("/api/events", json={"type": "NAP", "agentId": AGENT})
    no_item = await client.post("/api/events", json={"type": "WORK_STARTED", "agentId": AGENT})
    bad_agent = await client.post("/api/events", json={"type": "HEARTBEAT", "agentId": "dev e*"})
    bad_category = await client.post("/api/events", json={"type": "TOKEN_USAGE", "agentId": AGENT,
                                                           "model": "m", "category": "lunch"})
    assert [r.status_code for r in (unknown, no_item, bad_agent, bad_category)] == [422] * 4
    assert "HEARTBEAT" in unknown.json()["detail"] and "issueNumber" in no_item.json()["detail"]
    assert await outbox_events(database_url, schema) == []


async def read_channel(pubsub, count: int) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    while len(messages) < count:
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=5.0)
        assert message is not None, f"only {len(messages)} of {count} lines were published"
        messages.append(json.loads(message["data"]))
    return messages


async def test_output_lines_go_to_runlogs_and_the_agents_channel(client, redis, key_prefix):
    pubsub = redis.pubsub()
    await pubsub.subscribe(f"{key_prefix}logs:{AGENT}")
    await pubsub.get_message(timeout=1.0)  # the subscription confirmation
    run_id = await open_run(client)
    lines = [{"timestamp": "2026-11-25T10:00:00Z", "level": "info", "message": "cloning"},
             {"timestamp": "2026-11-25T10:00:01Z", "level": "error", "message": "npm test failed"}]
    logged = await client.post(f"/api/execution-logs/{run_id}/logs", json=lines)
    agent_logs = {"agentId": AGENT, "entries": [{"ts": "2026-11-25T10:00:02Z", "level": "warn", "message": "idle"},
                                                {"ts": "2026-11-25T10:00:03Z", "level": "info", "message": "fixing",
                                                 "repo": REPO, "issueNumber": 42}]}
    posted = await client.post("/api/agent-logs", json=agent_logs)
    assert (logged.json(), posted.json()) == ({"lines": 2}, {"lines": 2})

    entries = [fields for _id, fields in await redis.xrange(f"{key_prefix}runlogs")]
    decoded = [{k.decode(): v.decode() for k, v in fields.items()} for fields in entries]
    expected = [
        {"agentId": AGENT, "ts": "2026-11-25T10:00:00Z", "level": "info", "message": "cloning", "repo": REPO,
         "issueNumber": "42", "runId": run_id},
        {"agentId": AGENT, "ts": "2026-11-25T10:00:01Z", "level": "error", "message": "npm test failed",
         "repo": REPO, "issueNumber": "42", "runId": run_id},
        {"agentId": AGENT, "ts": "2026-11-25T10:00:02Z", "level": "warn", "message": "idle", "repo": "",
         "issueNumber": ""},
        {"agentId": AGENT, "ts": "2026-11-25T10:00:03Z", "level": "info", "message": "fixing", "repo": REPO,
         "issueNumber": "42"},
    ]
    assert decoded == expected
    # The runtime sends each line to both calls: the live channel carries the agent-log ones, once, in one shape.
    assert await read_channel(pubsub, 2) == expected[2:]
    assert await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.5) is None
    await pubsub.aclose()


async def test_an_agents_output_about_an_item_is_progress_once_a_minute(client, redis, key_prefix, database_url,
                                                                       schema):
    """Issue 14, item 4: the runtime's agent-log lines show it works on an item (the router's progress lease counts
    AGENT_HEARTBEAT): one heartbeat per agent, item and minute however many lines, a review's under its linked item,
    none for lines about no item."""
    await redis.xadd(f"{key_prefix}assignments:review-e", {"repo": REPO, "issueNumber": "43", "linkedIssue": "42"})
    line = {"ts": "2026-11-25T10:00:03Z", "level": "info", "message": "working", "repo": REPO, "issueNumber": 42}
    posts = [(AGENT, [line]), (AGENT, [line, {**line, "message": "still"}]), (AGENT, [{**line, "issueNumber": 7}]),
             (AGENT, [{"ts": "", "message": "idle"}]), ("review-e", [{**line, "issueNumber": 43}])]
    for agent, entries in posts:
        response = await client.post("/api/agent-logs", json={"agentId": agent, "entries": entries})
        assert response.status_code == 200, response.text
    beats = await outbox_events(database_url, schema)
    assert [(b.source, b.subject, b.data.status, b.data.current_task) for b in beats] == [
        (f"agent:{AGENT}", SUBJECT, "busy", SUBJECT), (f"agent:{AGENT}", f"{REPO}#7", "busy", f"{REPO}#7"),
        ("agent:review-e", SUBJECT, "busy", SUBJECT)]
    assert all(b.type == "AGENT_HEARTBEAT" and b.key.startswith("output:") for b in beats)


async def test_the_runtimes_instance_heartbeat_and_usage_outside_work_are_recorded(client, database_url, schema):
    """Issue 14, items 1 and 7: the bodies exactly as the runtime builds them."""
    beat = {"type": "HEARTBEAT", "agentId": f"{AGENT}/x2k4p", "status": "busy", "currentIssue": 42,
            "currentRepo": REPO, "activeProvider": "claude-cli", "availableProviders": ["claude-cli", "codex"],
            "providers": {"claude-cli": {"available": True}}, "integrations": {"github": True}}
    idle: dict[str, Any] = {"type": "HEARTBEAT", "agentId": f"{AGENT}/x2k4p", "status": "idle", "currentIssue": None,
            "currentRepo": None, "activeProvider": "claude-cli", "availableProviders": [], "providers": {},
            "integrations": {}}
    usages = [{"type": "TOKEN_USAGE", "agentId": AGENT, "repo": "", "issueNumber": 0, "model": "claude-haiku-4-5",
               "inputTokens": 10, "outputTokens": 2, "costUsd": 0.0001, "category": category}
              for category in ("idle", "chat", "")]
    for body in (beat, idle, *usages):
        response = await client.post("/api/events", json=body)
        assert response.status_code == 202, (body, response.text)
    busy, rested, *used = await outbox_events(database_url, schema)
    assert (busy.source, busy.subject, busy.data.agent, busy.data.instance) == (
        f"agent:{AGENT}", SUBJECT, AGENT, "x2k4p")
    assert (busy.data.status, busy.data.provider, busy.data.current_task, busy.data.current_repo,
            busy.data.current_issue) == ("busy", "claude-cli", SUBJECT, REPO, 42)
    assert busy.data.available_providers == ["claude-cli", "codex"]
    assert busy.data.providers == {"claude-cli": {"available": True}} and busy.data.integrations == {"github": True}
    assert (rested.subject, rested.data.current_task, rested.data.instance) == (f"agent:{AGENT}", None, "x2k4p")
    assert [(u.subject, u.data.agent, u.data.category) for u in used] == [
        (f"agent:{AGENT}", AGENT, "idle"), (f"agent:{AGENT}", AGENT, "chat"), (f"agent:{AGENT}", AGENT, "work")]


async def test_a_review_run_belongs_to_the_work_item_its_entry_links(client, redis, key_prefix, database_url, schema):
    """Issue 14, item 8: the runtime's review entry names the PR as issueNumber and the work item as linkedIssue."""
    await redis.xadd(f"{key_prefix}assignments:review-e", {"repo": REPO, "issueNumber": "43", "linkedIssue": "42"})
    body = {"repo": REPO, "issueNumber": 43, "agentId": "review-e", "status": "running", "model": "m", "steps": []}
    opened = await client.post("/api/execution-logs", json=body)
    assert opened.status_code == 201, opened.text
    done = await client.post(f"/api/execution-logs/{opened.json()['id']}/complete",
                             json={"status": "completed", "prNumber": 43})
    assert done.status_code == 200, done.text
    started, finished = await outbox_events(database_url, schema)
    assert (started.subject, started.data.number) == (SUBJECT, 42)
    assert (finished.subject, finished.data.number, finished.data.pr_number) == (SUBJECT, 42, 43)


async def test_a_token_must_be_the_agent_it_names(client, keys, database_url, schema):
    review = bearer(keys, "agent:review-e", "events:write", "runs:write")
    own = bearer(keys, f"agent:{AGENT}", "events:write", "runs:write")
    beat = {"type": "HEARTBEAT", "agentId": AGENT}
    assert (await client.post("/api/events", json=beat, headers=review)).status_code == 403
    assert (await client.post("/api/events", json=beat, headers=own)).status_code == 202
    run_id = await open_run(client)
    step = {"type": "test", "status": "started"}
    assert (await client.post(f"/api/execution-logs/{run_id}/steps", json=step, headers=review)).status_code == 403
    assert (await client.post(f"/api/execution-logs/{run_id}/steps", json=step, headers=own)).status_code == 200
    events_only = bearer(keys, f"agent:{AGENT}", "events:write")
    refused = await client.post(f"/api/execution-logs/{run_id}/steps", json=step, headers=events_only)
    assert refused.status_code == 403 and "runs:write" in refused.json()["detail"]
    assert [e.type for e in await outbox_events(database_url, schema)] == ["AGENT_HEARTBEAT", "RUN_STARTED",
                                                                           "RUN_STEP"]


async def test_token_less_calls_are_refused_outside_the_trusted_networks(
        keys, database_url, redis_url, key_prefix, schema_suffix, tmp_path, caplog):
    for trusted in ([], ["10.0.0.0/8", "fd00::/8"]):
        caplog.clear()
        settings = settings_with(keys, database_url, redis_url, key_prefix, schema_suffix, str(tmp_path),
                                 trusted_networks=trusted)
        with caplog.at_level(logging.WARNING, logger="rig_identity.dependency"):
            app = create_app(settings)
        warned = [r.getMessage() for r in caplog.records if r.name == "rig_identity.dependency"]
        assert bool(warned) == bool(trusted) and all("10.0.0.0/8" in w for w in warned)
        async with app.router.lifespan_context(app), httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app, client=("127.0.0.1", 5000)), base_url="http://ingest") as http:
            assert (await http.get("/readyz")).status_code == 200
            calls = await asyncio.gather(
                http.post("/api/events", json={"type": "HEARTBEAT", "agentId": AGENT}),
                http.post("/api/execution-logs", json={"repo": REPO, "issueNumber": 1, "agentId": AGENT}),
                http.post("/api/agent-logs", json={"agentId": AGENT, "entries": []}))
        assert [c.status_code for c in calls] == [401, 401, 401]
        assert "RIG_TRUSTED_NETWORKS" in calls[0].json()["detail"]


async def test_a_persons_token_speaks_the_runtime_form_as_the_person(client, keys, database_url, schema):
    alice = bearer(keys, "human:alice", "events:write", "runs:write")
    common = {"agentId": "alice", "repo": REPO, "issueNumber": 42}
    started = await client.post("/api/events", json={"type": "WORK_STARTED", **common, "branch": "fix"},
                                headers=alice)
    assert started.status_code == 202, started.text
    usage = await client.post("/api/events", json={"type": "TOKEN_USAGE", **common, "model": "m"}, headers=alice)
    run = await client.post("/api/execution-logs", json={"repo": REPO, "issueNumber": 42, "agentId": "alice"},
                            headers=alice)
    as_bob = await client.post("/api/events", json={"type": "HEARTBEAT", "agentId": "bob"}, headers=alice)
    assert (usage.status_code, run.status_code, as_bob.status_code) == (403, 403, 403)
    (event,) = await outbox_events(database_url, schema)
    assert (event.type, event.source, event.subject, event.data.agent) == ("WORK_STARTED", "human:alice", SUBJECT,
                                                                           "alice")


async def test_lines_valkey_cannot_take_are_a_503_to_retry(
        keys, database_url, private_redis, key_prefix, schema_suffix, tmp_path):
    settings = settings_with(keys, database_url, private_redis.url, key_prefix, schema_suffix, str(tmp_path),
                             trusted_networks=[RUNTIME_NETWORK])
    app = create_app(settings)
    lines = {"agentId": AGENT, "entries": [{"ts": "t", "level": "info", "message": "m"}]}
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=(RUNTIME_HOST, 5000)), base_url="http://ingest") as http:
        assert (await http.get("/readyz")).status_code == 200
        assert (await http.post("/api/agent-logs", json=lines)).json() == {"lines": 1}
        private_redis.stop()
        refused = await http.post("/api/agent-logs", json=lines)
        private_redis.start()
    assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
