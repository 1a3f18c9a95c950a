"""What the edge exposes, on real processes: under /services/<name>/ only health, readiness and metrics; nothing of
the sandbox while real GitHub is configured, and never its unauthenticated control API; admin routes only at their
public, authenticated paths."""

from __future__ import annotations

import json

import httpx
from system_support import admin_token, build

from rig_service.topology import load

SERVICES = tuple(spec.name for spec in load().present() if spec.name != "sandbox")
"""Every service of the route table whose code is here (a service added later is tested too); the sandbox is
GitHub's stand-in, not ours: it is kept off the edge instead (test_edge_exposure)."""
OPERATOR_PATHS = ("/healthz", "/readyz", "/metrics")


async def test_services_show_only_their_health_and_the_sandbox_nothing_with_real_github(
        tmp_path, database_url, redis_url, key_prefix, schema_suffix):
    # RIG_GITHUB_API_URL is left at https://api.github.com: the sandbox runs, but it is not the GitHub in use.
    system = build([*SERVICES, "sandbox", "edge"], database_url=database_url, redis_url=redis_url,
                   key_prefix=key_prefix, schema_suffix=schema_suffix, folder=tmp_path,
                   extra_env={"RIG_INGEST_WEBHOOK_SECRETS": json.dumps(["exposure-test-secret"])})
    async with system, httpx.AsyncClient(base_url=system.url("edge"), timeout=30) as edge, httpx.AsyncClient(
            base_url=system.url("sandbox"), timeout=30) as sandbox:
        assert (await sandbox.get("/_sandbox/apps")).status_code == 200, "it runs, and answers directly"
        for path in ("/_sandbox/apps", "/_sandbox", "/healthz", "/app/installations", "/repos/demo/hello"):
            assert (await edge.get(f"/services/sandbox{path}")).status_code == 404, path
        refused = await edge.post("/services/sandbox/_sandbox/repos", json={"owner": "evil", "name": "x"})
        assert refused.status_code == 404
        assert "evil/x" not in (await sandbox.get("/_sandbox/repos")).text, "nothing was created"

        admin = {"Authorization": f"Bearer {admin_token()}"}
        for service in SERVICES:
            for path in OPERATOR_PATHS:
                assert (await edge.get(f"/services/{service}{path}")).status_code == 200, (service, path)
            for path in ("/admin/rebuild", f"/api/admin/{service}/rebuild", "/openapi.json", "/docs"):
                answer = await edge.get(f"/services/{service}{path}", headers=admin)
                assert answer.status_code == 404, (service, path, answer.text)
                assert "no service owns" in answer.json()["detail"]
            assert (await edge.post(f"/services/{service}/admin/rebuild", headers=admin, json={})).status_code == 404
            # The admin routes themselves are public paths of the route table, behind their admin token.
            rebuild = f"/api/admin/{service}/rebuild"
            assert (await edge.get(rebuild)).status_code == 401
            assert (await edge.get(rebuild, headers=admin)).status_code in (200, 404), "404: no projection"


async def test_the_sandbox_standing_in_for_github_shows_its_health_and_no_more(
        tmp_path, database_url, redis_url, key_prefix, schema_suffix):
    system = build(["sandbox", "edge"], database_url=database_url, redis_url=redis_url, key_prefix=key_prefix,
                   schema_suffix=schema_suffix, folder=tmp_path)
    system.plan.env["RIG_GITHUB_API_URL"] = system.url("sandbox")  # as `make run` wires it without credentials
    async with system, httpx.AsyncClient(base_url=system.url("edge"), timeout=30) as edge:
        for path in OPERATOR_PATHS:
            assert (await edge.get(f"/services/sandbox{path}")).status_code == 200, path
        for path in ("/_sandbox/apps", "/_sandbox/events", "/app/installations", "/repos/demo/hello"):
            assert (await edge.get(f"/services/sandbox{path}")).status_code == 404, path
        assert (await edge.post("/services/sandbox/_sandbox/repos", json={"owner": "e", "name": "x"})).status_code \
            == 404
