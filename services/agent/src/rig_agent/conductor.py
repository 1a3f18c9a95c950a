"""How an agent speaks to the system: the conductor's HTTP API with its own token (docs/design.md section 8)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import httpx

log = logging.getLogger(__name__)


class ConductorError(RuntimeError):
    """The conductor refused or could not take a call; the message says which and what to check."""


class BudgetRefusedError(RuntimeError):
    """The costs service did not admit the run: a budget cannot take it (the message says which, what to change)."""


class Conductor:
    """A small client of the edge with the agent's bearer token: events, merge requests (and `http` for more)."""

    def __init__(self, base_url: str, token: str | None, *, timeout_s: float = 10.0,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.AsyncClient(base_url=base_url.rstrip("/"), headers=headers, timeout=timeout_s,
                                       transport=transport)

    async def event(self, type_: str, subject: str, data: Mapping[str, Any], *, key: str | None = None,
                    correlation_id: str | None = None) -> str:
        """Post one event in our catalogue's form; return its id."""
        body: dict[str, Any] = {"type": type_, "subject": subject, "data": dict(data)}
        if key is not None:
            body["key"] = key
        if correlation_id is not None:
            body["correlation_id"] = correlation_id
        answer = await self._post("/api/events", body)
        return str(answer.get("id", ""))

    async def request_merge(self, repo: str, pr_number: int, head_sha: str) -> dict[str, Any]:
        """Ask the merger to squash-merge the PR at the approved head (scope `merge:request`)."""
        return await self._post("/api/merge", {"repo": repo, "pr_number": pr_number, "head_sha": head_sha})

    async def reserve(self, run_id: str, repo: str, number: int) -> Decimal | None:
        """Reserve the run's allowance before it starts: the most it may spend (None: no cap applies to it).

        Raises BudgetRefusedError when a budget cannot take the run, ConductorError when the answer cannot be had
        (the run is then tried again later, never started unadmitted). An installation without the costs service
        (no route for the call: 404) caps nothing, as it announces no spent budget either.
        """
        path = "/api/budgets/reservations"
        response = await self._send(path, {"run_id": run_id, "repo": repo, "number": number})
        if response.status_code == 404:
            log.warning("no costs service behind %s: run %s starts without a budget", self.http.base_url, run_id)
            return None
        if response.status_code == 409:
            detail = response.json().get("detail", {})
            raise BudgetRefusedError(detail.get("reason", response.text) if isinstance(detail, dict) else detail)
        allowance = _answer(path, response).get("allowance_usd")
        return Decimal(str(allowance)) if allowance is not None else None

    async def _post(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return _answer(path, await self._send(path, body))

    async def _send(self, path: str, body: Mapping[str, Any]) -> httpx.Response:
        """POST `body`; ConductorError when the conductor cannot be reached or refuses the agent's token."""
        try:
            response = await self.http.post(path, json=body)
        except httpx.HTTPError as error:
            raise ConductorError(f"cannot reach the conductor at {self.http.base_url}{path}: {error}; "
                                 "check RIG_AGENT_CONDUCTOR_URL") from error
        if response.status_code in (401, 403):
            raise ConductorError(f"the conductor refused {path} ({response.status_code}: {response.text[:200]}); "
                                 "check RIG_AGENT_TOKEN's subject and scopes")
        return response

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self.http.aclose()


def _answer(path: str, response: httpx.Response) -> dict[str, Any]:
    """The JSON object of a successful answer; ConductorError for any other status."""
    if response.status_code >= 400:
        raise ConductorError(f"{path} answered {response.status_code}: {response.text[:300]}")
    answer = response.json() if response.content else {}
    return answer if isinstance(answer, dict) else {}
