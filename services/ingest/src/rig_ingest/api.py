"""`POST /webhooks/github`: verify, bound, parse, then store the delivery and its events in one transaction."""

from __future__ import annotations

import json
import logging
import re
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, HTTPException, Request
from prometheus_client import Counter

from rig_db import outbox
from rig_ingest import domain, store
from rig_ingest.settings import IngestSettings
from rig_ingest.signature import verify
from rig_ingest.webhook import NOTHING, Delivery, Known, Translation
from rig_kit import ServiceKit
from rig_service.bodies import json_value

log = logging.getLogger(__name__)

WEBHOOKS = Counter("rig_ingest_webhooks_total", "Webhook deliveries answered, by outcome",
                   ["outcome"])
UNTRANSLATABLE = Counter("rig_ingest_untranslatable_total",
                         "Deliveries stored but not translated because their payload had an unexpected shape",
                         ["event"])


def refuse(status: int, detail: str) -> HTTPException:
    """An HTTP error to answer with, counted by status."""
    WEBHOOKS.labels(str(status)).inc()
    return HTTPException(status, detail)


def parse(body: bytes, content_type: str) -> dict[str, Any]:
    """The JSON object of a delivery (JSON body, or form-encoded `payload=`), refused with 400 otherwise."""
    try:
        if content_type.startswith("application/x-www-form-urlencoded"):
            body = parse_qs(body.decode(), strict_parsing=True)["payload"][0].encode()
    except (ValueError, KeyError, IndexError) as error:  # UnicodeDecodeError is a ValueError
        raise refuse(400, f"the body is not a JSON webhook payload: {type(error).__name__}") from error
    try:
        payload = json_value(body)
    except HTTPException as error:
        raise refuse(400, f"the body is not a JSON webhook payload: {error.detail}") from error
    if not isinstance(payload, dict):
        raise refuse(400, "the body is JSON but not an object")
    return payload


_UNSTORABLE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")
"""JSON escapes PostgreSQL's jsonb refuses or may refuse: NUL, and surrogates (lone ones are refused)."""


def clean(value: Any) -> Any:
    """`value` with NUL characters dropped and lone surrogates replaced, so jsonb takes it."""
    if isinstance(value, str):
        return value.replace("\x00", "").encode("utf-8", "replace").decode()
    if isinstance(value, list):
        return [clean(item) for item in value]
    if isinstance(value, dict):
        return {clean(key): clean(item) for key, item in value.items()}
    return value


def stored_json(body: bytes, payload: dict[str, Any]) -> str:
    """The text to store as jsonb: the body itself when PostgreSQL takes it as is, else a cleaned copy."""
    if body.lstrip()[:1] == b"{" and not _UNSTORABLE.search(body):
        try:
            return body.decode()
        except UnicodeDecodeError:
            pass
    return json.dumps(clean(payload), ensure_ascii=False)


def translation_of(delivery: Delivery, settings: IngestSettings, known: Known) -> Translation:
    """The delivery's events; a payload of an unexpected shape is stored untranslated and reported, not a 5xx."""
    try:
        return domain.translate(delivery, known, settings.ingest_approval_label)
    except (ValueError, TypeError, KeyError, AttributeError):
        UNTRANSLATABLE.labels(delivery.event).inc()
        log.exception("delivery %s (%s.%s) stored but not translated", delivery.guid, delivery.event,
                      delivery.action)
        return NOTHING


def webhook_router(kit: ServiceKit, settings: IngestSettings) -> APIRouter:
    """The GitHub webhook route."""
    router = APIRouter()
    secrets = tuple(settings.ingest_webhook_secrets)
    if not secrets:
        log.warning("RIG_INGEST_WEBHOOK_SECRETS is empty: every webhook will be refused with 401")

    @router.post("/webhooks/github")
    async def github_webhook(request: Request) -> dict[str, Any]:
        """Accept one signed delivery: stored with its events before the 200, once per guid."""
        # The size limit (RIG_BODY_LIMITS, 25 MB here, in front of every route) is this route's first guard: the
        # signature needs the whole body, so it is read before anything else is known about the caller.
        body = await request.body()
        if not verify(body, request.headers.get("x-hub-signature-256"), secrets):
            raise refuse(401, "X-Hub-Signature-256 is missing or does not match a configured webhook secret")
        guid = request.headers.get("x-github-delivery", "").strip()
        event = request.headers.get("x-github-event", "").strip()
        if not guid or not event:
            raise refuse(400, "X-GitHub-Delivery and X-GitHub-Event are required")
        payload = parse(body, request.headers.get("content-type", "application/json"))
        delivery = Delivery(guid, event, payload)
        async with kit.pool.acquire() as conn:
            translation = translation_of(delivery, settings, await store.known(conn, domain.wanted(delivery)))
            if not await store.store(conn, guid, event, delivery.action, stored_json(body, payload),
                                     translation.links,
                                     [outbox.OutboxEntry(e, kit.names.events) for e in translation.events]):
                WEBHOOKS.labels("redelivery").inc()
                return {"delivery": guid, "duplicate": True, "events": []}
        WEBHOOKS.labels("stored").inc()
        return {"delivery": guid, "duplicate": False, "events": [e.type for e in translation.events]}

    return router
