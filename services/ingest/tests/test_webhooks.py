"""`POST /webhooks/github` through the real app: the kit against real Postgres and Redis."""

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator

import asyncpg
import pytest
from ingest_support import OLD_SECRET, SECRET, deliver, every_payload, example, headers, outbox_events

from rig_contracts import Names
from rig_contracts.entries import EVENT_FIELD

REPO = "Codertocat/Hello-World"


async def test_every_corpus_payload_is_accepted_and_stored(client, database_url, schema):
    answers: Counter[int] = Counter()
    count = 0
    for event, _index, payload in every_payload():
        response = await deliver(client, event, payload)
        answers[response.status_code] += 1
        assert response.status_code == 200, (event, response.text)
        count += 1
    conn = await asyncpg.connect(database_url)
    try:
        stored = await conn.fetchval(f"SELECT count(*) FROM {schema}.deliveries")
        types = await conn.fetchval(f"SELECT count(DISTINCT event) FROM {schema}.deliveries")
    finally:
        await conn.close()
    assert count == 329 and answers == {200: 329}
    assert (stored, types) == (329, 58)


async def test_corpus_payloads_yield_their_events(client, database_url, schema):
    sent = [("pull_request", "synchronize"), ("pull_request", "labeled"), ("pull_request", "unlabeled"),
            ("pull_request", "closed"), ("check_suite", "completed"), ("check_run", "completed"),
            ("status", None), ("issues", "labeled"), ("check_suite", "requested")]
    for event, action in sent:
        response = await deliver(client, event, example(event, action))
        assert response.status_code == 200
    events = await outbox_events(database_url, schema)
    assert [e.type for e in events] == ["PR_UPDATED", "PR_LABELS_CHANGED", "PR_LABELS_CHANGED", "PR_CLOSED",
                                        "CHECKS_COMPLETED", "CHECKS_COMPLETED", "CHECKS_COMPLETED"]
    updated, closed = events[0], events[3]
    assert updated.data.head_sha == example("pull_request", "synchronize")["pull_request"]["head"]["sha"]
    assert closed.subject == f"{REPO}#2" and closed.key.startswith(f"pr-closed:{REPO}#2:")
    suite = events[4]
    assert suite.subject == f"{REPO}#2"  # the synchronize taught ingest that this head is PR #2's
    assert suite.data.conclusion == "success"


async def test_a_linked_pr_gives_checks_on_its_head_the_issue_as_subject(client, database_url, schema):
    opened = example("pull_request", "opened")
    opened["pull_request"]["body"] = "RESOLVES #7"
    assert (await deliver(client, "pull_request", opened)).json()["events"] == ["PR_CREATED"]
    fork_suite = example("check_suite", "completed", 1)
    assert fork_suite["check_suite"]["pull_requests"] == []
    await deliver(client, "check_suite", fork_suite)
    created, checks = await outbox_events(database_url, schema)
    assert (created.type, created.subject, created.data.issue_number) == ("PR_CREATED", f"{REPO}#7", 7)
    assert (checks.type, checks.subject, checks.data.pr_number) == ("CHECKS_COMPLETED", f"{REPO}#7", 2)


async def test_approval_label_is_approved(client, database_url, schema):
    payload = example("issues", "labeled")
    payload["label"]["name"] = "agent-ready"
    assert (await deliver(client, "issues", payload)).json()["events"] == ["ISSUE_APPROVED"]
    (event,) = await outbox_events(database_url, schema)
    assert event.subject == f"{REPO}#{payload['issue']['number']}"


async def test_a_redelivery_is_answered_200_without_a_second_event(client, database_url, schema):
    payload = example("pull_request", "synchronize")
    first = await deliver(client, "pull_request", payload, guid="guid-same")
    second = await deliver(client, "pull_request", payload, guid="guid-same")
    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json()["duplicate"] is True
    assert [e.type for e in await outbox_events(database_url, schema)] == ["PR_UPDATED"]


async def test_a_rotated_secret_is_accepted_alongside_the_new_one(client):
    assert (await deliver(client, "ping", example("ping"), secret=OLD_SECRET)).status_code == 200
    assert (await deliver(client, "ping", example("ping"), secret=SECRET)).status_code == 200


@pytest.mark.parametrize("signature", [None, "", "sha256=" + "0" * 64, "sha1=abc", "garbage"])
async def test_a_bad_or_missing_signature_is_401_and_stores_nothing(client, database_url, schema, signature):
    body = json.dumps(example("ping")).encode()
    sent = headers(body, "ping")
    if signature is None:
        del sent["X-Hub-Signature-256"]
    else:
        sent["X-Hub-Signature-256"] = signature
    assert (await client.post("/webhooks/github", content=body, headers=sent)).status_code == 401
    wrong = headers(body, "ping", secret="not-ours")
    assert (await client.post("/webhooks/github", content=body, headers=wrong)).status_code == 401
    conn = await asyncpg.connect(database_url)
    try:
        assert await conn.fetchval(f"SELECT count(*) FROM {schema}.deliveries") == 0
    finally:
        await conn.close()


@pytest.mark.parametrize("body", [b"{not json", b"", b"[1, 2]", b'"text"', b"\xff\xfe{", b"{\"a\": 1} trailing"])
async def test_malformed_json_is_400(client, body):
    response = await client.post("/webhooks/github", content=body, headers=headers(body, "issues"))
    assert response.status_code == 400


async def test_missing_event_headers_are_400(client):
    body = b"{}"
    sent = headers(body, "issues")
    del sent["X-GitHub-Delivery"]
    assert (await client.post("/webhooks/github", content=body, headers=sent)).status_code == 400


async def test_nul_characters_and_lone_surrogates_are_stored_not_500(client):
    body = b'{"action": "opened", "zero": "a\\u0000b", "lone": "\\ud800", "pair": "\\ud83d\\ude00"}'
    response = await client.post("/webhooks/github", content=body, headers=headers(body, "issues"))
    assert response.status_code == 200


async def test_oversized_body_is_413_by_length_and_by_count(client, settings):
    limit = settings.body_limits["/webhooks/github"]
    big = b"{" + b" " * limit + b"}"
    response = await client.post("/webhooks/github", content=big, headers=headers(big, "ping"))
    assert response.status_code == 413

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the size is counted while streaming
        for _ in range(limit // (1 << 20) + 2):
            yield b" " * (1 << 20)

    response = await client.post("/webhooks/github", content=chunks(), headers=headers(b"", "ping"))
    assert response.status_code == 413


async def test_malformed_shapes_of_relevant_events_are_stored_not_500(client):
    for event in ("issues", "pull_request", "pull_request_review", "check_suite", "check_run", "status"):
        for payload in ({"action": "closed", "repository": {"full_name": REPO}, "issue": {"number": "x"}},
                        {"action": "completed", "repository": {"full_name": REPO}, event: []},
                        {"repository": "nope", "pull_request": {"number": 3, "head": {"sha": 5}}},
                        {"action": "labeled", "repository": {"full_name": "bad repo name"},
                         "issue": {"number": 1}, "label": {"name": "agent-ready"}}):
            response = await deliver(client, event, payload)
            assert response.status_code == 200, (event, payload, response.text)


async def test_stored_events_reach_the_stream_through_the_relay(client, redis, key_prefix):
    await deliver(client, "pull_request", example("pull_request", "synchronize"))
    stream = Names(key_prefix).events
    for _ in range(100):
        entries = await redis.xrange(stream)
        if entries:
            break
        await asyncio.sleep(0.05)
    (entry,) = entries
    assert json.loads(entry[1][EVENT_FIELD.encode()])["type"] == "PR_UPDATED"
