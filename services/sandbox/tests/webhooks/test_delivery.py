"""Signed deliveries reach a real receiver with GitHub's headers; failures are recorded, never retried."""

from __future__ import annotations

import re
import sys
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY
from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[2] / "src"))  # until rig-sandbox is installed in the venv

from webhooks_support import SECRET, Receiver, corpus_payload, serve

from rig_sandbox.webhooks import Dispatcher, WebhookSettings


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    got = Receiver()
    async with serve(got.app()) as base_url:
        yield got, f"{base_url}/webhooks/github"


def settings(url: str | None, **changes: Any) -> WebhookSettings:
    return WebhookSettings(sandbox_webhook_url=url, sandbox_webhook_secret=SecretStr(SECRET), **changes)


async def test_a_delivery_is_signed_over_the_exact_bytes_with_githubs_headers(receiver, tmp_path: Path) -> None:
    got, url = receiver
    payload = corpus_payload("issues", "opened")
    dispatcher = Dispatcher(settings(url), tmp_path, app_id=4242, hook_id=77)
    await dispatcher.start()
    try:
        dispatcher.emit("issues", payload)
        await dispatcher.wait_idle()
        [delivery] = dispatcher.deliveries()
    finally:
        await dispatcher.stop()

    [request] = got.received
    assert request.signature_ok and request.sha1_ok
    assert request.payload == payload
    headers = request.headers
    assert headers["x-github-event"] == "issues"
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", headers["x-github-delivery"])
    assert headers["x-github-hook-id"] == "77"
    assert headers["x-github-hook-installation-target-id"] == "4242"
    assert headers["x-github-hook-installation-target-type"] == "integration"
    assert re.fullmatch(r"GitHub-Hookshot/[0-9a-f]+", headers["user-agent"])
    assert headers["content-type"] == "application/json"
    assert (delivery.guid, delivery.status, delivery.status_code) == (request.guid, "OK", 200)
    assert (delivery.event, delivery.action, delivery.redelivery) == ("issues", "opened", False)
    assert delivery.repository_id == payload["repository"]["id"]
    assert delivery.installation_id == (payload.get("installation") or {}).get("id")
    assert delivery.response_body == "ok"


async def test_a_500_is_recorded_as_failed_and_not_retried(receiver, tmp_path: Path) -> None:
    got, url = receiver
    got.answer = 500
    before = REGISTRY.get_sample_value("rig_sandbox_webhook_deliveries_total",
                                       {"event": "issues", "outcome": "http_error"}) or 0.0
    dispatcher = Dispatcher(settings(url), tmp_path)
    await dispatcher.start()
    try:
        dispatcher.emit("issues", {"action": "labeled", "issue": {"number": 1}})
        await dispatcher.wait_idle()
        [delivery] = dispatcher.deliveries(status="failure")
        assert dispatcher.deliveries(status="success") == []
    finally:
        await dispatcher.stop()

    assert len(got.received) == 1
    assert (delivery.status, delivery.status_code) == ("Invalid HTTP Response: 500", 500)
    assert delivery.response_body == "receiver broken"
    after = REGISTRY.get_sample_value("rig_sandbox_webhook_deliveries_total",
                                      {"event": "issues", "outcome": "http_error"})
    assert after == before + 1


async def test_the_fail_switch_sends_nothing_and_records_failures(receiver, tmp_path: Path) -> None:
    got, url = receiver
    dispatcher = Dispatcher(settings(url, sandbox_fail_deliveries=True), tmp_path)
    await dispatcher.start()
    try:
        dispatcher.emit("pull_request", {"action": "opened"})
        dispatcher.emit("issues", {"action": "closed"})
        await dispatcher.wait_idle()
        failed = dispatcher.deliveries(status="failure")
    finally:
        await dispatcher.stop()

    assert got.received == []
    assert [(d.event, d.status, d.status_code) for d in failed] == [
        ("issues", "failed to connect", 502), ("pull_request", "failed to connect", 502)]
    assert "RIG_SANDBOX_FAIL_DELIVERIES" in (failed[0].response_body or "")


async def test_a_slow_receiver_times_out(receiver, tmp_path: Path) -> None:
    got, url = receiver
    got.delay_s = 1.0
    dispatcher = Dispatcher(settings(url, sandbox_delivery_timeout_s=0.2), tmp_path)
    await dispatcher.start()
    try:
        dispatcher.emit("status", {"state": "success"})
        await dispatcher.wait_idle()
        [delivery] = dispatcher.deliveries(status="failure")
    finally:
        await dispatcher.stop()

    assert (delivery.status, delivery.action) == ("timed out", None)
    assert 0.2 <= delivery.duration < 1.0


async def test_nobody_listening_is_failed_to_connect(tmp_path: Path) -> None:
    dispatcher = Dispatcher(settings("http://127.0.0.1:9/webhooks/github"), tmp_path)
    await dispatcher.start()
    try:
        dispatcher.emit("push", {"ref": "refs/heads/main"})
        await dispatcher.wait_idle()
        [delivery] = dispatcher.deliveries(status="failure")
    finally:
        await dispatcher.stop()

    assert (delivery.status, delivery.status_code) == ("failed to connect", 502)


async def test_without_a_url_deliveries_are_recorded_not_sent(tmp_path: Path) -> None:
    dispatcher = Dispatcher(settings(None), tmp_path)
    await dispatcher.start()
    try:
        dispatcher.emit("issues", {"action": "opened"})
        await dispatcher.wait_idle()
        [delivery] = dispatcher.deliveries()
    finally:
        await dispatcher.stop()

    assert delivery.status.startswith("not sent") and delivery.status_code == 0
    assert delivery.request_headers is not None and "X-Hub-Signature-256" in delivery.request_headers


async def test_emit_from_another_thread_keeps_emit_order(receiver, tmp_path: Path) -> None:
    got, url = receiver
    dispatcher = Dispatcher(settings(url), tmp_path)
    await dispatcher.start()
    try:
        def emit_five() -> None:
            for n in range(5):
                dispatcher.emit("push", {"n": n})

        worker = threading.Thread(target=emit_five)
        worker.start()
        worker.join()
        dispatcher.emit("push", {"n": 5})
        await dispatcher.wait_idle()
    finally:
        await dispatcher.stop()

    assert [r.payload["n"] for r in got.received] == [0, 1, 2, 3, 4, 5]
