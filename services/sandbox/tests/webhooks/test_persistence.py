"""Deliveries survive a restart: the record stays readable and what was not sent yet goes out."""

from __future__ import annotations

import sys
from pathlib import Path

from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[2] / "src"))  # until rig-sandbox is installed in the venv

from webhooks_support import SECRET, Receiver, sandbox_api, serve

from rig_sandbox.webhooks import Dispatcher, WebhookSettings


def settings(url: str) -> WebhookSettings:
    return WebhookSettings(sandbox_webhook_url=url, sandbox_webhook_secret=SecretStr(SECRET))


async def test_the_record_survives_a_restart_and_redelivery_still_works(tmp_path: Path) -> None:
    got = Receiver()
    async with serve(got.app()) as base_url:
        url = f"{base_url}/webhooks/github"
        first = Dispatcher(settings(url), tmp_path)
        await first.start()
        got.answer = 500
        first.emit("issues", {"action": "opened", "issue": {"number": 1}})
        await first.wait_idle()
        got.answer = 200
        first.emit("issues", {"action": "closed", "issue": {"number": 1}})
        await first.wait_idle()
        async with sandbox_api(first) as client:
            before = (await client.get("/app/hook/deliveries")).json()
        await first.stop()

        second = Dispatcher(settings(url), tmp_path)
        await second.start()
        try:
            async with sandbox_api(second) as client:
                after = (await client.get("/app/hook/deliveries")).json()
                failed = (await client.get("/app/hook/deliveries?status=failure")).json()
                assert (await client.post(f"/app/hook/deliveries/{failed[0]['id']}/attempts")).status_code == 202
                await second.wait_idle()
                newest = (await client.get("/app/hook/deliveries?per_page=1")).json()
        finally:
            await second.stop()

    assert after == before and len(after) == 2
    assert [d["action"] for d in failed] == ["opened"]
    assert newest[0]["redelivery"] and newest[0]["guid"] == failed[0]["guid"] and newest[0]["id"] > after[0]["id"]
    assert [r.payload["action"] for r in got.received] == ["opened", "closed", "opened"]


async def test_deliveries_emitted_but_not_sent_go_out_at_the_next_start(tmp_path: Path) -> None:
    got = Receiver()
    async with serve(got.app()) as base_url:
        url = f"{base_url}/webhooks/github"
        never_started = Dispatcher(settings(url), tmp_path)
        never_started.emit("push", {"n": 1})
        never_started.emit("push", {"n": 2})
        await never_started.stop()
        assert got.received == []

        restarted = Dispatcher(settings(url), tmp_path)
        await restarted.start()
        try:
            restarted.emit("push", {"n": 3})
            await restarted.wait_idle()
            ids = [d.id for d in restarted.deliveries()]
        finally:
            await restarted.stop()

    assert [r.payload["n"] for r in got.received] == [1, 2, 3]
    assert ids == [3, 2, 1]


async def test_emit_before_start_is_sent_once_started(tmp_path: Path) -> None:
    got = Receiver()
    async with serve(got.app()) as base_url:
        dispatcher = Dispatcher(settings(f"{base_url}/webhooks/github"), tmp_path)
        dispatcher.emit("ping", {"zen": "Keep it logically awesome."})
        await dispatcher.start()
        try:
            dispatcher.emit("push", {"n": 1})
            await dispatcher.wait_idle()
        finally:
            await dispatcher.stop()

    assert [r.headers["x-github-event"] for r in got.received] == ["ping", "push"]
