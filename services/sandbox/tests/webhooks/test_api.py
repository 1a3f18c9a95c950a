"""The deliveries API answers as GitHub's does: list, get, redeliver, in GitHub's response schemas."""

from __future__ import annotations

import re
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[2] / "src"))  # until rig-sandbox is installed in the venv

from webhooks_support import (
    SECRET,
    Receiver,
    assert_matches,
    corpus_payload,
    response_schema,
    sandbox_api,
    serve,
)

from rig_sandbox.webhooks import Dispatcher, WebhookSettings

LIST = response_schema("/app/hook/deliveries", "get", "200")
DETAIL = response_schema("/app/hook/deliveries/{delivery_id}", "get", "200")
ATTEMPT = response_schema("/app/hook/deliveries/{delivery_id}/attempts", "post", "202")


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[tuple[Receiver, Dispatcher, httpx.AsyncClient]]:
    got = Receiver()
    async with serve(got.app()) as base_url:
        settings = WebhookSettings(sandbox_webhook_url=f"{base_url}/webhooks/github",
                                   sandbox_webhook_secret=SecretStr(SECRET))
        dispatcher = Dispatcher(settings, tmp_path)
        await dispatcher.start()
        try:
            async with sandbox_api(dispatcher) as client:
                yield got, dispatcher, client
        finally:
            await dispatcher.stop()


async def test_a_failed_delivery_is_listed_and_redelivered_after_the_receiver_is_fixed(setup) -> None:
    got, dispatcher, client = setup
    got.answer = 503
    payload = corpus_payload("pull_request", "opened")
    dispatcher.emit("pull_request", payload)
    await dispatcher.wait_idle()

    failures = await client.get("/app/hook/deliveries", params={"status": "failure"})
    successes = await client.get("/app/hook/deliveries", params={"status": "success"})
    assert failures.status_code == 200 and successes.json() == []
    assert_matches(failures.json(), LIST)
    [failed] = failures.json()
    assert (failed["status"], failed["status_code"], failed["redelivery"]) == ("Invalid HTTP Response: 503", 503,
                                                                                False)

    got.answer = 200
    redelivered = await client.post(f"/app/hook/deliveries/{failed['id']}/attempts")
    assert redelivered.status_code == 202 and redelivered.json() == {}
    assert_matches(redelivered.json(), ATTEMPT)
    await dispatcher.wait_idle()

    first, second = got.received
    assert first.guid == second.guid == failed["guid"] and second.body == first.body and second.signature_ok
    listed = (await client.get("/app/hook/deliveries")).json()
    assert_matches(listed, LIST)
    assert [(d["guid"], d["redelivery"], d["status"]) for d in listed] == [
        (failed["guid"], True, "OK"), (failed["guid"], False, "Invalid HTTP Response: 503")]
    assert listed[0]["id"] > failed["id"]
    assert [d["id"] for d in (await client.get("/app/hook/deliveries?status=success")).json()] == [listed[0]["id"]]


async def test_a_delivery_shows_the_request_sent_and_the_response_received(setup) -> None:
    _, dispatcher, client = setup
    payload = corpus_payload("issues", "labeled")
    dispatcher.emit("issues", payload)
    await dispatcher.wait_idle()
    [summary] = (await client.get("/app/hook/deliveries")).json()

    response = await client.get(f"/app/hook/deliveries/{summary['id']}")

    assert response.status_code == 200
    detail = response.json()
    assert_matches(detail, DETAIL)
    assert {k: detail[k] for k in summary} == summary
    assert detail["url"].endswith("/webhooks/github")
    assert detail["request"]["payload"] == payload
    assert detail["request"]["headers"]["X-GitHub-Delivery"] == summary["guid"]
    assert detail["request"]["headers"]["X-Hub-Signature-256"].startswith("sha256=")
    assert detail["response"]["payload"] == "ok"
    assert detail["response"]["headers"]["content-type"].startswith("text/plain")


async def test_pages_follow_the_link_header_newest_first(setup) -> None:
    _, dispatcher, client = setup
    for n in range(5):
        dispatcher.emit("push", {"n": n})
    await dispatcher.wait_idle()

    seen: list[int] = []
    url: str | None = "/app/hook/deliveries?per_page=2"
    pages = 0
    while url is not None:
        page = await client.get(url)
        assert page.status_code == 200 and len(page.json()) <= 2
        assert_matches(page.json(), LIST)
        seen += [d["id"] for d in page.json()]
        match = re.fullmatch(r'<([^>]+)>; rel="next"', page.headers.get("link", ""))
        url = match.group(1) if match else None
        pages += 1

    assert pages == 3
    assert seen == sorted(seen, reverse=True) and len(set(seen)) == 5
    assert len((await client.get("/app/hook/deliveries?per_page=1000")).json()) == 5  # cut to 100, as GitHub does


@pytest.mark.parametrize(
    ("method", "path", "code"),
    [
        ("GET", "/app/hook/deliveries/999", 404),
        ("GET", "/app/hook/deliveries/not-a-number", 404),
        ("POST", "/app/hook/deliveries/999/attempts", 404),
        ("GET", "/app/hook/deliveries?per_page=0", 422),
        ("GET", "/app/hook/deliveries?per_page=ten", 422),
        ("GET", "/app/hook/deliveries?status=broken", 422),
        ("GET", "/app/hook/deliveries?cursor=nonsense", 400),
    ],
)
async def test_bad_requests_get_githubs_errors(setup, method: str, path: str, code: int) -> None:
    _, _, client = setup

    response = await client.request(method, path)

    assert response.status_code == code
    assert response.json()["message"] and response.json()["documentation_url"].startswith("https://docs.github.com")


async def test_every_route_needs_the_app_jwt(setup) -> None:
    _, _, client = setup
    for method, path in [("GET", "/app/hook/deliveries"), ("GET", "/app/hook/deliveries/1"),
                         ("POST", "/app/hook/deliveries/1/attempts")]:
        response = await client.request(method, path, headers={"Authorization": "Bearer wrong"})
        assert response.status_code == 401
