"""HTTP for agents: `POST /api/budgets/reservations`, asked before a run starts (rig_costs.reservations).

An agent's token (`runs:write`) speaks for that agent only; the answer is 201 with the run's allowance, or 409
saying which budget is full and what to change. Who asks is taken from the token, never from the body.
"""

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, ConfigDict, Field

from rig_contracts.payloads import Repo
from rig_costs.domain import decimal_or_none
from rig_costs.reservations import Ask, Caps, reserve
from rig_costs.settings import CostsSettings
from rig_identity import Principal
from rig_kit import ServiceKit
from rig_service.bodies import json_body


class ReservationAsk(BaseModel):
    """The run an agent is about to start, and the work item it is for."""

    model_config = ConfigDict(extra="forbid")

    run_id: str = Field(min_length=1, max_length=200, description="The run's id, as its RUN_STARTED will carry it.")
    repo: Repo = Field(description="owner/name of the work item.")
    number: int = Field(ge=1, description="The work item's issue number.")
    agent: str | None = Field(default=None, max_length=200,
                              description="The agent pool; only needed from a trusted network without a token.")


def caps_of(settings: CostsSettings) -> Caps:
    """The caps the settings give."""
    return Caps(run_usd=decimal_or_none(settings.costs_run_budget_usd),
                issue_usd=decimal_or_none(settings.costs_issue_budget_usd),
                repo_day_usd=decimal_or_none(settings.costs_repo_day_budget_usd),
                day_usd=decimal_or_none(settings.costs_day_budget_usd),
                estimate_usd=Decimal(str(settings.costs_run_estimate_usd)), ttl_s=settings.costs_reservation_ttl_s)


def budget_router(kit: ServiceKit, settings: CostsSettings) -> APIRouter:
    """The reservation route."""
    router = APIRouter()
    runner = kit.authenticator.require("runs:write")
    Runner = Annotated[Principal, Depends(runner)]  # noqa: N806
    # The body is read only once the caller is known (a 401 never waits for it; too deep a body is a 400).
    Body = Annotated[ReservationAsk, json_body(ReservationAsk, after=runner)]  # noqa: N806
    caps = caps_of(settings)

    @router.post("/api/budgets/reservations", status_code=201)
    async def reservation(who: Runner, ask: Body) -> dict[str, Any]:
        """Reserve a run's allowance before it starts; 409 when a budget cannot take it."""
        agent = ask.agent or who.subject.removeprefix("agent:")
        if agent == who.subject or not who.may_speak_as(f"agent:{agent}"):
            raise HTTPException(403, f"{who.subject} may not reserve runs for {agent!r}: an agent's token reserves "
                                     "its own runs")
        async with kit.pool.acquire() as conn:
            admission = await reserve(conn, Ask(ask.run_id, agent, ask.repo, ask.number), caps)
        if not admission.admitted:
            raise HTTPException(409, {"scope": admission.scope, "reason": admission.reason})
        allowance = admission.allowance_usd
        return {"run_id": ask.run_id, "allowance_usd": float(allowance) if allowance is not None else None,
                "expires_at": admission.expires_at.isoformat() if admission.expires_at else None}

    return router
