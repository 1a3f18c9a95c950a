"""Delivers the sandbox's webhooks as GitHub does: signed, recorded, never retried, redelivered on request.

`emit` records a delivery and queues it without waiting. One worker sends emitted deliveries one at a time,
in emit order, so the order a receiver sees depends only on the events and the chaos seed. Redeliveries
asked for through the API have a worker of their own, untouched by chaos, so they never shift the emitted
sequence. Each delivery has exactly one attempt: a failure stays failed until someone redelivers it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from prometheus_client import Counter

from rig_sandbox.webhooks import hookshot
from rig_sandbox.webhooks.chaos import ChaosDecision, DeliveryChaos
from rig_sandbox.webhooks.settings import WebhookSettings
from rig_sandbox.webhooks.store import Attempt, Delivery, DeliveryStore, StatusClass

log = logging.getLogger(__name__)

DELIVERIES = Counter(
    "rig_sandbox_webhook_deliveries",
    "Webhook delivery attempts by event and outcome: ok, http_error (non-2xx answer), timeout, connect_error, "
    "failed_on_purpose (RIG_SANDBOX_FAIL_DELIVERIES), dropped (chaos), not_sent (no URL set)",
    ["event", "outcome"],
)
CHAOS = Counter("rig_sandbox_webhook_chaos", "Chaos effects applied to emitted deliveries", ["effect"])

RESPONSE_EXCERPT_CHARS = 4096
"""How much of a receiver's answer the delivery record keeps."""


@dataclass(frozen=True)
class _Job:
    """Deliveries the worker attempts together: one, or two for a chaos duplicate (same GUID)."""

    ids: tuple[int, ...]
    decision: ChaosDecision | None = None


class Dispatcher:
    """The App's webhook: records every delivery under `data_dir` and sends it to the configured URL.

    `app_id` is the GitHub App the webhook belongs to (`X-GitHub-Hook-Installation-Target-ID`), `hook_id` the
    webhook's id (`X-GitHub-Hook-ID`); `transport` lets a caller route requests (tests of timeouts).
    """

    def __init__(self, settings: WebhookSettings, data_dir: Path, *, app_id: int = 1, hook_id: int = 1,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._settings = settings
        self._data_dir = data_dir
        self._app_id = app_id
        self._hook_id = hook_id
        self._transport = transport
        self._store = DeliveryStore(data_dir)
        self._chaos = DeliveryChaos(settings)
        self._lock = threading.Lock()  # one order for ids, chaos decisions and queue positions
        self._loop: asyncio.AbstractEventLoop | None = None
        self._backlog: list[tuple[bool, _Job]] = []  # (is a redelivery, job) emitted before start()
        self._emitted: asyncio.Queue[_Job] = asyncio.Queue()
        self._redelivered: asyncio.Queue[_Job] = asyncio.Queue()
        self._client: httpx.AsyncClient | None = None
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Open the connection pool and start sending: first what an earlier run left pending, then the rest."""
        if self._tasks:
            return
        if self._store.closed:
            self._store = DeliveryStore(self._data_dir)
        self._client = httpx.AsyncClient(timeout=self._settings.sandbox_delivery_timeout_s,
                                         transport=self._transport, trust_env=False, follow_redirects=False)
        self._emitted, self._redelivered = asyncio.Queue(), asyncio.Queue()
        with self._lock:
            self._loop = asyncio.get_running_loop()
            backlog, self._backlog = self._backlog, []
            queued = {delivery_id for _, job in backlog for delivery_id in job.ids}
            for delivery_id in self._store.pending_ids():
                if delivery_id not in queued:
                    self._emitted.put_nowait(_Job((delivery_id,)))
            for redelivery, job in backlog:
                (self._redelivered if redelivery else self._emitted).put_nowait(job)
        self._tasks = [asyncio.create_task(self._deliver_emitted(), name="webhooks-emitted"),
                       asyncio.create_task(self._deliver_redeliveries(), name="webhooks-redelivered")]

    async def stop(self) -> None:
        """Stop sending and close the pool and the record; deliveries not sent yet go out at the next start."""
        with self._lock:
            self._loop = None
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        self._store.close()

    def emit(self, event: str, payload: dict[str, Any]) -> None:
        """Record a delivery of `payload` as webhook `event` (X-GitHub-Event) and queue it; never waits.

        Safe to call from any thread, and before `start` (the delivery is sent once the dispatcher starts).
        """
        body = hookshot.encode(payload)
        guid = str(uuid.uuid4())
        with self._lock:
            self._require_open()
            decision = self._chaos.decide(_label(event, payload))
            ids = [self._store.add(guid, event, payload, body)]
            if decision.duplicate:
                ids.append(self._store.add(guid, event, payload, body))
            self._enqueue(_Job(tuple(ids), decision), redelivery=False)

    def redeliver(self, delivery_id: int) -> int | None:
        """Queue the same payload with the same GUID as a new delivery marked `redelivery`.

        Returns the new delivery's id, or None when no delivery has this id (or it has not been attempted yet).
        """
        original = self._store.get(delivery_id)
        if original is None or not original.attempted:
            return None
        with self._lock:
            self._require_open()
            new_id = self._store.add(original.guid, original.event, original.payload, original.body,
                                     redelivery=True)
            self._enqueue(_Job((new_id,)), redelivery=True)
        return new_id

    def delivery(self, delivery_id: int) -> Delivery | None:
        """The attempted delivery with this id, or None."""
        found = self._store.get(delivery_id)
        return found if found is not None and found.attempted else None

    def deliveries(self, *, before_id: int | None = None, status: StatusClass | None = None,
                   limit: int = 30) -> list[Delivery]:
        """Attempted deliveries, newest first, below `before_id`, optionally only successes or failures."""
        return self._store.attempted(before_id=before_id, status=status, limit=limit)

    def decisions(self) -> list[ChaosDecision]:
        """The chaos decisions made so far, one per emitted event in emit order (empty with chaos off)."""
        return self._chaos.decisions()

    async def wait_idle(self, within_s: float = 30.0) -> None:
        """Wait until every queued delivery has had its attempt (raises TimeoutError after `within_s`)."""
        await asyncio.sleep(0)  # let emits from other threads reach the queues first
        async with asyncio.timeout(within_s):
            await self._emitted.join()
            await self._redelivered.join()

    def _require_open(self) -> None:
        if self._store.closed:
            raise RuntimeError("the webhook dispatcher is stopped; start() it again before emitting")

    def _enqueue(self, job: _Job, *, redelivery: bool) -> None:
        """Queue a job (the caller holds the lock, so queue order is the order ids were given)."""
        if self._loop is None:
            self._backlog.append((redelivery, job))
            return
        queue = self._redelivered if redelivery else self._emitted
        # Always through the loop, even from its own thread, so jobs from every thread keep one FIFO order.
        self._loop.call_soon_threadsafe(queue.put_nowait, job)

    async def _deliver_emitted(self) -> None:
        queue = self._emitted
        while True:
            job = await queue.get()
            jobs = [job]
            if job.decision is not None and job.decision.swap_with_next:
                follower = await _next_within(queue, self._settings.sandbox_chaos_late_max_s)
                if follower is None:
                    log.info("chaos: delivery %s had no successor within the hold time; sent in place", job.ids)
                else:
                    jobs.insert(0, follower)
                    CHAOS.labels("reordered").inc()
            for each in jobs:
                await self._run_guarded(each)
                queue.task_done()

    async def _deliver_redeliveries(self) -> None:
        while True:
            job = await self._redelivered.get()
            await self._run_guarded(job)
            self._redelivered.task_done()

    async def _run_guarded(self, job: _Job) -> None:
        try:
            await self._run(job)
        except Exception:
            # The worker must outlive one bad delivery; the row stays pending and is sent at the next start.
            log.exception("webhook delivery %s could not be attempted; it stays pending", job.ids)

    async def _run(self, job: _Job) -> None:
        decision = job.decision
        if decision is not None and decision.late_s > 0:
            CHAOS.labels("late").inc()
            await asyncio.sleep(decision.late_s)
        dropped = decision is not None and decision.drop
        if dropped:
            CHAOS.labels("dropped").inc()
        if len(job.ids) > 1:
            CHAOS.labels("duplicated").inc()
        for delivery_id in job.ids:
            delivery = self._store.get(delivery_id)
            if delivery is None or delivery.attempted:
                continue
            attempt, outcome = await self._attempt(delivery, dropped=dropped)
            self._store.complete(delivery_id, attempt)
            DELIVERIES.labels(delivery.event, outcome).inc()

    async def _attempt(self, delivery: Delivery, *, dropped: bool) -> tuple[Attempt, str]:
        """Send one delivery (or decide not to) and describe the outcome as GitHub's delivery log does."""
        settings = self._settings
        url = settings.sandbox_webhook_url
        body = delivery.body.encode()
        headers = hookshot.request_headers(event=delivery.event, guid=delivery.guid, hook_id=self._hook_id,
                                           app_id=self._app_id, body=body,
                                           secret=settings.sandbox_webhook_secret.get_secret_value())
        at = _now()
        if url is None:
            return Attempt(at, 0.0, "not sent: RIG_SANDBOX_WEBHOOK_URL is unset", 0, None, headers, None,
                           None), "not_sent"
        if dropped:
            reason = f"sandbox chaos dropped this delivery (RIG_SANDBOX_CHAOS_SEED={settings.sandbox_chaos_seed})"
            return _failed_to_connect(at, url, headers, reason), "dropped"
        if settings.sandbox_fail_deliveries:
            reason = "sandbox fails every delivery on purpose (RIG_SANDBOX_FAIL_DELIVERIES is on)"
            return _failed_to_connect(at, url, headers, reason), "failed_on_purpose"
        assert self._client is not None  # workers run only between start() and stop()
        started = time.monotonic()
        try:
            response = await self._client.post(url, content=body, headers=headers)
        except httpx.TimeoutException:
            return Attempt(at, _since(started), "timed out", 504, url, headers, None, None), "timeout"
        except (httpx.HTTPError, httpx.InvalidURL) as error:
            return _failed_to_connect(at, url, headers, f"{type(error).__name__}: {error}"), "connect_error"
        attempt = Attempt(at, _since(started), hookshot.response_status(response.status_code),
                          response.status_code, url, headers, dict(response.headers.items()),
                          response.text[:RESPONSE_EXCERPT_CHARS])
        return attempt, "ok" if response.is_success else "http_error"


async def _next_within(queue: asyncio.Queue[_Job], hold_s: float) -> _Job | None:
    """The next job of the queue, waiting at most `hold_s` seconds for one; None if none came."""
    with contextlib.suppress(asyncio.QueueEmpty):
        return queue.get_nowait()
    try:
        async with asyncio.timeout(hold_s):
            return await queue.get()
    except TimeoutError:
        return None


def _failed_to_connect(at: str, url: str, headers: dict[str, str], reason: str) -> Attempt:
    """A delivery that never got an answer, recorded as 'failed to connect' with status code 502.

    GitHub's own example pairs that status with 502; a code in 400-599 also puts the delivery where
    `status=failure` finds it. `reason` goes where a response body would be.
    """
    return Attempt(at, 0.0, "failed to connect", 502, url, headers, None, reason)


def _label(event: str, payload: dict[str, Any]) -> str:
    action = payload.get("action")
    return f"{event}.{action}" if isinstance(action, str) else event


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _since(started: float) -> float:
    return round(time.monotonic() - started, 3)
