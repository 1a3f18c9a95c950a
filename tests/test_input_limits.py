"""Bad input on real processes: every POST route of every service, directly and through the edge, answers a
50 MB body with 413 (from its Content-Length at once, or counted as it streams) within a second, a caller
without valid credentials with 401 before its body is read, and deeply nested JSON with 400, never 500.

The routes come from each running service's own OpenAPI document, so a route added later is tested too.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from input_support import HUGE, MB, SAMPLE_PARAMETERS, Route, eagerly, lazily, post_raw, post_routes, signed
from system_support import admin_token, build

from rig_service.settings import GITHUB_MAX_PAYLOAD_BYTES
from rig_service.topology import load
from rig_supervisor.harness import System

SERVICES = tuple(spec.name for spec in load().present() if spec.name != "sandbox")
"""Every service of the route table whose code is here (a service added later is tested too); the sandbox is
GitHub's stand-in, not ours: it is kept off the edge instead (test_edge_exposure)."""
SECRET = "input-limits-webhook-secret"
WEBHOOK = "/webhooks/github"
BODYLESS = {"/api/assignments/{assignment_id}/ack", "/api/assignments/{assignment_id}/release"}
"""Routes that take no body at all (pull mode's acknowledgements): they answer without reading one."""

NESTED = b"[" * 100_000
ADMIN = {"Authorization": f"Bearer {admin_token()}"}


@pytest.fixture
async def system(tmp_path, database_url, redis_url, key_prefix, schema_suffix) -> AsyncIterator[System]:
    built = build([*SERVICES, "edge"], database_url=database_url, redis_url=redis_url, key_prefix=key_prefix,
                  schema_suffix=schema_suffix, folder=tmp_path,
                  extra_env={"RIG_INGEST_WEBHOOK_SECRETS": json.dumps([SECRET])})
    async with built:
        yield built


async def open_run(system: System) -> str:
    """A run of ingest's, so its routes reach their body instead of answering 404 for an unknown run."""
    async with httpx.AsyncClient(timeout=30) as client:
        opened = await client.post(f"{system.url('ingest')}/api/execution-logs", headers=ADMIN, json={
            "repo": "acme/inputs", "issueNumber": 1, "agentId": "dev-e-node", "status": "running"})
    assert opened.status_code == 201, opened.text
    return str(opened.json()["id"])


async def every_route(system: System) -> list[Route]:
    routes = [route for service in SERVICES for route in await post_routes(service, system.url(service))]
    assert {r.template for r in routes} >= {WEBHOOK, "/api/events", "/api/merge", "/api/replays",
                                            "/api/repo-learnings", "/api/admin/merger/rebuild"}
    return routes


def targets(system: System, route: Route, topology_path) -> list[str]:
    """Where to call the route: its service directly, and the edge (which must route it to that service)."""
    routed = load(topology_path).route(route.path)
    assert routed is not None and routed[0].name == route.service, f"the edge does not route {route.template}"
    return [system.url(route.service), system.url("edge")]


async def test_a_50_mb_body_is_refused_at_once_on_every_post_route(system, tmp_path):
    run_id = await open_run(system)
    for route in await every_route(system):
        path = route.path.replace(SAMPLE_PARAMETERS["run_id"], run_id)
        for base in targets(system, route, tmp_path / "topology.toml"):
            where = f"{route.template} at {base}"
            declared = await post_raw(base, route.path, lazily(HUGE), length=HUGE)
            assert declared.status == 413, (where, declared)
            assert declared.seconds < 1.0 and declared.sent < MB, (where, declared)
            assert b"RIG_MAX_BODY_BYTES" in declared.body

            # Chunked, with no length to go by: counted as it streams, from a caller the route admits.
            limit = GITHUB_MAX_PAYLOAD_BYTES if route.template == WEBHOOK else MB  # the defaults of CommonSettings
            streamed = await post_raw(base, path, eagerly(HUGE, fast=limit + MB), length=None, headers=ADMIN)
            assert streamed.status == 413 or route.template in BODYLESS, (where, streamed)
            assert streamed.sent < HUGE, f"{where}: answered only once the whole body was in"
            assert streamed.seconds < 1.0, (where, streamed)


async def test_no_valid_credentials_is_401_before_any_body_is_read(system, tmp_path):
    for route in await every_route(system):
        if route.template == WEBHOOK:
            continue  # the signature needs the whole body: the size limit is this route's guard
        for credentials in ({}, {"Authorization": "Bearer not-a-token"}):
            # The body is declared but never sent: only a service that does not wait for it can answer.
            answer = await post_raw(system.url(route.service), route.path, lazily(512 * 1024, first=0),
                                    length=512 * 1024, headers=credentials)
            assert answer.status == 401, (route.template, credentials, answer)
            assert answer.seconds < 1.0, (route.template, answer)
            # The edge streams a body on as it comes and answers once the service did (so at most the body
            # limit is ever read): the same 401, never a 400 or 422 about the body.
            [_, edge] = targets(system, route, tmp_path / "topology.toml")
            relayed = await post_raw(edge, route.path, eagerly(512 * 1024), length=512 * 1024, headers=credentials)
            assert relayed.status == 401, (route.template, credentials, relayed)


async def test_deeply_nested_json_is_400_never_500_on_every_json_route(system, tmp_path):
    admin = {**ADMIN, "Content-Type": "application/json"}
    run_id = await open_run(system)
    async with httpx.AsyncClient(timeout=30) as client:
        for route in await every_route(system):
            path = route.path.replace(SAMPLE_PARAMETERS["run_id"], run_id)
            for base in targets(system, route, tmp_path / "topology.toml"):
                headers = admin
                for body in (NESTED, b"[" * 70 + b"]" * 70, b'{"a": ' * 70 + b"1" + b"}" * 70):
                    if route.template == WEBHOOK:
                        headers = signed(SECRET, body)
                    answer = await client.post(f"{base}{path}", content=body, headers=headers)
                    assert answer.status_code < 500, (route.template, base, answer.status_code, answer.text)
                    if route.template not in BODYLESS:
                        assert answer.status_code == 400, (route.template, base, answer.status_code, answer.text)
