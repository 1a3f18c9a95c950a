"""GitHub's App webhook deliveries API: list, get and redeliver, in GitHub's shapes and status codes.

Every route needs the App's JWT: the caller passes the dependency that checks it. Errors carry GitHub's
`{message, documentation_url, status}` body. The store's calls are short local SQLite reads, made on the
event loop.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from rig_sandbox.webhooks.dispatcher import Dispatcher
from rig_sandbox.webhooks.store import Delivery, StatusClass

DOCS = "https://docs.github.com/rest/apps/webhooks"
MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 30
_CURSOR = re.compile(r"v1_(\d{1,18})")
_STATUS_CLASSES: dict[str, StatusClass] = {"success": "success", "failure": "failure"}


class DeliverySummary(BaseModel):
    """A delivery without its request and response, as the list shows it."""

    id: int = Field(description="Unique identifier of the delivery (each redelivery has its own).")
    guid: str = Field(description="X-GitHub-Delivery: shared by every delivery of the same event.")
    delivered_at: str = Field(description="When the delivery was attempted, UTC (2021-05-12T20:33:44Z).")
    redelivery: bool = Field(description="Whether someone asked for this delivery through the API.")
    duration: float = Field(description="Seconds spent delivering.")
    status: str = Field(description="'OK', 'Invalid HTTP Response: 503', 'timed out', 'failed to connect' …")
    status_code: int = Field(description="The receiver's HTTP status (502/504 when it never answered).")
    event: str = Field(description="X-GitHub-Event, e.g. issues.")
    action: str | None = Field(description="The payload's action, e.g. opened.")
    installation_id: int | None = Field(description="The payload's installation id.")
    repository_id: int | None = Field(description="The payload's repository id.")
    throttled_at: str | None = Field(default=None, description="Never set: the sandbox does not throttle.")


class DeliveryRequest(BaseModel):
    """What was sent."""

    headers: dict[str, str] | None = Field(description="Request headers of the delivery.")
    payload: dict[str, Any] | None = Field(description="The webhook payload.")


class DeliveryResponse(BaseModel):
    """What the receiver answered."""

    headers: dict[str, str] | None = Field(description="Response headers; null when nothing answered.")
    payload: str | None = Field(description="The start of the response body, or why nothing answered.")


class DeliveryDetail(DeliverySummary):
    """A delivery with its request and response."""

    url: str = Field(description="Where the delivery was sent (empty when no URL was set).")
    request: DeliveryRequest
    response: DeliveryResponse


def deliveries_router(dispatcher: Dispatcher, app_auth: Callable[..., Any],
                      owns: Callable[[Any], bool] = lambda _app: True) -> APIRouter:
    """The routes under `/app/hook/deliveries`, each guarded by `app_auth` (a FastAPI dependency).

    `owns(app)` says whether the calling App owns this webhook: as on GitHub, another App sees no deliveries
    (an empty list; a delivery id is unknown to it).
    """
    router = APIRouter(tags=["apps"])
    calling_app = Depends(app_auth)

    @router.get("/app/hook/deliveries", response_model=list[DeliverySummary])
    async def list_deliveries(request: Request, response: Response, per_page: str | None = None,
                              cursor: str | None = None, status: str | None = None,
                              caller: Any = calling_app) -> Any:
        """List deliveries for an app webhook: newest first, `Link: <…>; rel="next"` while more remain."""
        limit = _per_page(per_page)
        if isinstance(limit, Response):
            return limit
        before_id = _cursor(cursor)
        if isinstance(before_id, Response):
            return before_id
        status_class = _STATUS_CLASSES.get(status) if status is not None else None
        if status is not None and status_class is None:
            return _validation_error("status", status, "list-deliveries-for-an-app-webhook")
        if not owns(caller):
            return []
        rows = dispatcher.deliveries(before_id=before_id, status=status_class, limit=limit + 1)
        if len(rows) > limit:
            rows = rows[:limit]
            next_url = request.url.include_query_params(per_page=limit, cursor=f"v1_{rows[-1].id}")
            response.headers["Link"] = f'<{next_url}>; rel="next"'
        return [_summary(row) for row in rows]

    @router.get("/app/hook/deliveries/{delivery_id}", response_model=DeliveryDetail)
    async def get_delivery(delivery_id: str, caller: Any = calling_app) -> Any:
        """Get a delivery for an app webhook, with the request sent and the response received."""
        found = dispatcher.delivery(_id(delivery_id)) if owns(caller) else None
        if found is None:
            return _error(404, "Not Found", "get-a-delivery-for-an-app-webhook")
        return _detail(found)

    @router.post("/app/hook/deliveries/{delivery_id}/attempts", status_code=status.HTTP_202_ACCEPTED,
                 response_model=dict[str, Any])
    async def redeliver(delivery_id: str, caller: Any = calling_app) -> Any:
        """Redeliver a delivery for an app webhook: the same payload and GUID, as a new delivery."""
        if not owns(caller) or dispatcher.redeliver(_id(delivery_id)) is None:
            return _error(404, "Not Found", "redeliver-a-delivery-for-an-app-webhook")
        return {}

    return router


def _summary(row: Delivery) -> DeliverySummary:
    return DeliverySummary(
        id=row.id, guid=row.guid, delivered_at=row.delivered_at or "", redelivery=row.redelivery,
        duration=row.duration, status=row.status, status_code=row.status_code, event=row.event,
        action=row.action, installation_id=row.installation_id, repository_id=row.repository_id,
    )


def _detail(row: Delivery) -> DeliveryDetail:
    return DeliveryDetail(
        **_summary(row).model_dump(), url=row.url or "",
        request=DeliveryRequest(headers=row.request_headers, payload=row.payload),
        response=DeliveryResponse(headers=row.response_headers, payload=row.response_body),
    )


def _id(text: str) -> int:
    """A delivery id from the path; an id that is not a number matches no delivery (0)."""
    return int(text) if text.isdigit() and len(text) <= 18 else 0


def _per_page(text: str | None) -> int | Response:
    """`per_page` as GitHub reads it: 30 by default, at most 100 (larger values are cut to 100)."""
    if text is None:
        return DEFAULT_PER_PAGE
    if not text.isdigit() or int(text) < 1:
        return _validation_error("per_page", text, "list-deliveries-for-an-app-webhook")
    return min(int(text), MAX_PER_PAGE)


def _cursor(text: str | None) -> int | Response | None:
    """The delivery id a page starts below, from a cursor this API put in a `Link` header."""
    if text is None:
        return None
    match = _CURSOR.fullmatch(text)
    if match is None:
        return _error(400, f"Invalid cursor {text!r}: use the one in the Link header of the previous page",
                      "list-deliveries-for-an-app-webhook")
    return int(match.group(1))


def _error(code: int, message: str, anchor: str) -> JSONResponse:
    return JSONResponse({"message": message, "documentation_url": f"{DOCS}#{anchor}", "status": str(code)},
                        status_code=code)


def _validation_error(field: str, value: str, anchor: str) -> JSONResponse:
    body = {"message": "Validation Failed", "documentation_url": f"{DOCS}#{anchor}", "status": "422",
            "errors": [{"resource": "WebhookDelivery", "field": field, "code": "invalid", "value": value}]}
    return JSONResponse(body, status_code=422)
