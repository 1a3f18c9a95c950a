"""Conformance with the public agent runtime (issue 14): its calls, recorded in `conformance/runtime_calls.json`
with the answer it needs, replayed token-less from a trusted network through the edge to the real ingest, router
and merger processes; then what they recorded checked (instance heartbeat, usage outside work, one live line)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from system_support import admin_token, build, eventually, whole_log

pytestmark = pytest.mark.slow

CALLS = json.loads((Path(__file__).parent / "conformance" / "runtime_calls.json").read_text())["calls"]
RUNTIME = "127.0.0.2"
"""The runtime's own loopback address, the one trusted network (development only)."""


def _matches(call: dict[str, Any], answer: httpx.Response) -> None:
    assert answer.status_code == call["status"], (call, answer.text)
    if "answer" in call:
        assert answer.json() == call["answer"], (call, answer.text)
    for key in call.get("keys", ()):
        assert key in answer.json(), (call, answer.text)
    for key, value in call.get("answer_fields", {}).items():
        assert answer.json()[key] == value, (call, answer.text)


async def test_every_recorded_runtime_call_gets_the_answer_the_runtime_needs(
        tmp_path, database_url, redis_url, key_prefix, schema_suffix):
    system = build(["ingest", "router", "merger", "eventstore", "edge"], database_url=database_url,
                   redis_url=redis_url, key_prefix=key_prefix, schema_suffix=schema_suffix, folder=tmp_path,
                   extra_env={"RIG_ENVIRONMENT": "development", "RIG_TRUSTED_NETWORKS": f'["{RUNTIME}/32"]'})
    async with system, httpx.AsyncClient(timeout=30, transport=httpx.AsyncHTTPTransport(
            local_address=RUNTIME)) as runtime:
        edge, run = system.url("edge"), ""
        for call in CALLS:
            path = call["path"].replace("{run}", run)
            answer = await runtime.request(call["method"], f"{edge}{path}", json=call.get("body"))
            _matches(call, answer)
            if call["path"] == "/api/execution-logs":
                run = answer.json()["id"]

        async def recorded() -> list[dict[str, Any]]:
            return [e["event"] for e in await whole_log(system.url("eventstore"), admin_token())]

        async def finished() -> bool:
            return any(e["type"] == "RUN_FINISHED" for e in await recorded())

        await eventually(finished, within_s=60, what="the runtime's events in the event store")
        log = await recorded()
    # Its own heartbeat, and the one its agent-log line about octo/conform#7 counts as progress (issue 14, item 4).
    [beat] = [e for e in log if e["type"] == "AGENT_HEARTBEAT" and not e["key"].startswith("output:")]
    assert [e["subject"] for e in log if e["key"].startswith("output:")] == ["octo/conform#7"]
    assert (beat["source"], beat["data"]["agent"], beat["data"]["instance"], beat["data"]["provider"]) == (
        "agent:dev-e-node", "dev-e-node", "x2k4p", "claude-cli")
    usage = [(e["subject"], e["data"]["category"]) for e in log if e["type"] == "TOKEN_USAGE"]
    assert usage == [("agent:dev-e-node", "idle"), ("agent:dev-e-node", "chat"), ("agent:dev-e-node", "work")]
    assert [e["subject"] for e in log if e["type"].startswith("RUN_")] == ["octo/conform#7"] * 3
