"""The missed-delivery sweep against the sandbox process: deliveries made to fail are found through the App's
deliveries API, redelivered once, and their events published once; several sweepers make one pass."""

import asyncio
import logging
from collections import Counter

import httpx
from ingest_support import SECRET
from sweep_support import github_settings, metric, rows, serving, stream_types

from rig_db.pool import create_pool
from rig_github import GitHubClient, GitHubSettings, Role
from rig_ingest.app import create_app
from rig_ingest.sweep import MissedDeliverySweep, sweep_of
from rig_testing.sandbox import sandbox_process
from rig_testing.servers import free_port
from rig_testing.waiting import eventually

REPO = "acme/widgets"
REQUESTED = "rig_ingest_sweep_redeliveries_total"
DROP_EVERY_DELIVERY = {"RIG_SANDBOX_CHAOS_SEED": "5", "RIG_SANDBOX_CHAOS_DROP": "1", "RIG_SANDBOX_CHAOS_LATE": "0",
                       "RIG_SANDBOX_CHAOS_REORDER": "0", "RIG_SANDBOX_CHAOS_DUPLICATE": "0"}
"""Sandbox chaos that drops every first delivery (recorded failed, as GitHub records one); redeliveries go."""


def sandbox_env(port: int) -> dict[str, str]:
    return {"RIG_SANDBOX_WEBHOOK_URL": f"http://127.0.0.1:{port}/webhooks/github",
            "RIG_SANDBOX_WEBHOOK_SECRET": SECRET, **DROP_EVERY_DELIVERY}


async def approve_an_issue(control: httpx.AsyncClient) -> None:
    """Create a repository and an issue and label it agent-ready: two deliveries (opened, labeled), dropped."""
    assert (await control.post("/_sandbox/repos", json={"owner": "acme", "name": "widgets",
                                                         "files": {"README.md": "# w\n"}})).status_code == 201
    issue = await control.post(f"/_sandbox/repos/{REPO}/issues", json={"title": "Recover me"})
    number = issue.json()["number"]
    labelled = await control.post(f"/_sandbox/repos/{REPO}/issues/{number}/labels", json={"labels": ["agent-ready"]})
    assert labelled.status_code == 200, labelled.text


async def first_attempts(github: GitHubSettings, count: int) -> dict[str, int]:
    """GUID -> status code of the App's first delivery attempts (not redeliveries), once `count` were made."""
    async with GitHubClient(github, Role.CONDUCTOR) as client:
        async def listed() -> dict[str, int] | None:
            page = await client.list_deliveries(per_page=100)
            first = {d.guid: d.status_code for d in page.deliveries if not d.redelivery}
            return first if len(first) >= count else None
        found: dict[str, int] = await eventually(listed, what=f"{count} first delivery attempts")
    return found


async def test_a_delivery_made_to_fail_is_recovered_by_the_sweep_and_its_event_appears_once(
        settings, tmp_path, database_url, schema, redis, key_prefix):
    port = free_port()
    with sandbox_process(tmp_path / "sandbox", **sandbox_env(port)) as url:
        github = github_settings(url)
        fast = settings.model_copy(update={"ingest_sweep_interval_s": 0.3, "ingest_sweep_retry_after_s": 60.0})
        ingest = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=url) as control, serving(create_app(fast, github), port):
            recovered_then = await metric(ingest, "rig_ingest_sweep_recovered_total")
            requested_then = await metric(ingest, REQUESTED, outcome="requested")
            await approve_an_issue(control)
            attempts = await first_attempts(github, 2)
            assert sorted(attempts.values()) == [502, 502]  # 'failed to connect', as GitHub records it
            failed = set(attempts)

            async def stored() -> bool:
                found = await rows(database_url, f"SELECT guid FROM {schema}.deliveries")
                return {row["guid"] for row in found} == failed
            await eventually(stored, what="every failed delivery stored through the sweep's redeliveries")

            async def published() -> bool:
                return "ISSUE_APPROVED" in await stream_types(redis, key_prefix)
            await eventually(published, what="ISSUE_APPROVED on the stream")
            passes_then = (await rows(database_url, f"SELECT finished_at FROM {schema}.sweep_passes"))[0][0]

            async def two_more_passes() -> bool:
                after = (await rows(database_url, f"SELECT finished_at FROM {schema}.sweep_passes"))[0][0]
                return (after - passes_then).total_seconds() > 0.5
            await eventually(two_more_passes, what="two more sweep passes")
            asked = (await control.get("/_sandbox/requests", params={
                "method": "POST", "path": "/app/hook/deliveries/*/attempts"})).json()
            recovered = await metric(ingest, "rig_ingest_sweep_recovered_total") - recovered_then
            requested = await metric(ingest, REQUESTED, outcome="requested") - requested_then

        assert (recovered, requested) == (2, 2)
        assert Counter(await stream_types(redis, key_prefix))["ISSUE_APPROVED"] == 1
        assert len(asked) == 2 and all(entry["status"] == 202 for entry in asked), asked
        redeliveries = await rows(database_url, f"SELECT guid, attempts, recovered_at FROM {schema}.redeliveries")
        assert {row["guid"] for row in redeliveries} == failed
        assert all(row["attempts"] == 1 and row["recovered_at"] is not None for row in redeliveries)


async def test_sweepers_of_several_processes_ask_once_per_delivery(settings, tmp_path, database_url, schema):
    port = free_port()
    with sandbox_process(tmp_path / "sandbox", **sandbox_env(port)) as url:
        github = github_settings(url)
        off = settings.model_copy(update={"ingest_sweep_enabled": False})
        async with httpx.AsyncClient(base_url=url) as control, serving(create_app(off, github), port):
            await approve_an_issue(control)
            failed = set(await first_attempts(github, 2))
            app_pool = await create_pool(database_url, schema)
            sweepers = [MissedDeliverySweep(off, github) for _ in range(3)]
            clients = [sweeper.client() for sweeper in sweepers]
            try:
                reports = await asyncio.gather(*(s.pass_once(app_pool, c) for s, c in zip(sweepers, clients,
                                                                                           strict=True)))
            finally:
                await app_pool.close()
                for client in clients:
                    await client.aclose()
            asked = (await control.get("/_sandbox/requests", params={
                "method": "POST", "path": "/app/hook/deliveries/*/attempts"})).json()
    done = [r for r in reports if r.skipped is None]
    assert len(done) == 1, reports
    assert {r.skipped for r in reports if r.skipped is not None} <= {"locked", "recent"}
    assert set(done[0].requested) == failed
    assert len(asked) == 2


def test_without_conductor_app_credentials_the_sweep_is_off_and_says_so(settings, caplog):
    with caplog.at_level(logging.WARNING, logger="rig_ingest.sweep"):
        assert sweep_of(settings, GitHubSettings()) is None
    assert "RIG_GITHUB_CONDUCTOR_APP_ID" in caplog.text
    assert sweep_of(settings.model_copy(update={"ingest_sweep_enabled": False}), GitHubSettings()) is None
