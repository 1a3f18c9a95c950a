"""Reservations (docs/design.md section 2): spend set aside before a run starts, so parallel runs cannot overshoot.

An agent asks before its run starts (`POST /api/budgets/reservations`). The run is admitted only when, for every
cap that applies to it (its issue's, its repository's for the UTC day, the installation's for the day), what is
spent plus what other open reservations hold plus what this run needs stays within the cap. A run needs the
per-run cap, or the estimate when no per-run cap is set; that is also the most it may spend (its allowance: the
agent stops its provider past it). A reservation holds its amount, less what its run has spent, until the run has
finished or the reservation expired. Admissions are serialised by one transaction-scoped advisory lock, shared by
every replica through the database, so two agents asking at the same moment see each other's reservation.

A repository's `.rig-agent.yaml` (`budget.perIssueUsd`, `budget.perDayUsd`, carried by ISSUE_ASSIGNED) can only
tighten the settings' caps, never loosen them: it is text anyone with a pull request can change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import asyncpg

LOCK = "rig:costs:reservations"
"""The advisory lock every admission takes (hashed), for the length of its transaction."""


@dataclass(frozen=True, slots=True)
class Caps:
    """The settings' caps in dollars (None: no cap), the estimate and how long a reservation lives."""

    run_usd: Decimal | None = None
    issue_usd: Decimal | None = None
    repo_day_usd: Decimal | None = None
    day_usd: Decimal | None = None
    estimate_usd: Decimal = Decimal(2)
    ttl_s: float = 7200.0


@dataclass(frozen=True, slots=True)
class Ask:
    """An agent asking to start run `run_id` on the work item `repo#number`."""

    run_id: str
    agent: str
    repo: str
    number: int

    @property
    def subject(self) -> str:
        """The work item `owner/name#N`."""
        return f"{self.repo}#{self.number}"


@dataclass(frozen=True, slots=True)
class Scope:
    """One cap that applies to a run, with what is spent and held under it."""

    name: str
    """issue, repo_day or day."""
    target: str
    limit_usd: Decimal
    spent_usd: Decimal
    held_usd: Decimal


@dataclass(frozen=True, slots=True)
class Admission:
    """The answer: admitted with an allowance (None: no cap applies), or refused and why."""

    admitted: bool
    allowance_usd: Decimal | None = None
    scope: str = ""
    reason: str = ""
    expires_at: datetime | None = None


SETTING = {"issue": "RIG_COSTS_ISSUE_BUDGET_USD or budget.perIssueUsd",
           "repo_day": "RIG_COSTS_REPO_DAY_BUDGET_USD or budget.perDayUsd", "day": "RIG_COSTS_DAY_BUDGET_USD"}


def decide(need: Decimal, scopes: Sequence[Scope]) -> Admission:
    """Admit a run needing `need` dollars when it fits under every scope; else refuse naming the first that is full."""
    for scope in scopes:
        if scope.spent_usd + scope.held_usd + need > scope.limit_usd:
            reason = (f"the {scope.name.replace('_', ' ')} budget of {scope.target} would be overshot: "
                      f"${scope.spent_usd:.2f} spent and ${scope.held_usd:.2f} reserved by running work of "
                      f"${scope.limit_usd:.2f}, and a run needs ${need:.2f}; raise {SETTING[scope.name]}, or wait "
                      "for running work to finish")
            return Admission(False, scope=scope.name, reason=reason)
    return Admission(True, allowance_usd=need)


def tightest(*caps: Decimal | None) -> Decimal | None:
    """The lowest of the caps that are set."""
    present = [c for c in caps if c is not None]
    return min(present) if present else None


_HELD = ("SELECT coalesce(sum(greatest(r.amount_usd - coalesce(x.cost_usd, 0), 0)), 0) FROM reservations r "
         "LEFT JOIN runs x ON x.run_id = r.run_id WHERE r.expires_at > now() AND NOT EXISTS (SELECT 1 FROM runs f "
         "WHERE f.run_id = r.run_id AND f.status <> 'running')")
_SCOPES = {  # per scope: the runs it sums, the reservations it sums (both over the same parameters)
    "issue": ("subject = $1", "r.subject = $1"),
    "repo_day": ("repo_key = $1 AND day = $2", "r.repo_key = $1 AND (r.created_at AT TIME ZONE 'UTC')::date = $2"),
    "day": ("day = $1", "(r.created_at AT TIME ZONE 'UTC')::date = $1"),
}


async def reserve(conn: asyncpg.Connection, ask: Ask, caps: Caps) -> Admission:
    """Admit `ask` or refuse it, in one transaction under the admissions lock.

    Asking again for a run admitted before answers the same admission (an agent retrying after a lost answer).
    """
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", LOCK)
        earlier = await conn.fetchrow("SELECT agent, amount_usd, expires_at FROM reservations WHERE run_id = $1",
                                      ask.run_id)
        if earlier is not None:
            if earlier["agent"] != ask.agent:
                return Admission(False, scope="run", reason=f"run {ask.run_id} is another agent's")
            return Admission(True, allowance_usd=earlier["amount_usd"], expires_at=earlier["expires_at"])
        scopes = await _scopes(conn, ask, caps)
        if not scopes:
            return Admission(True, allowance_usd=caps.run_usd)
        admission = decide(caps.run_usd or caps.estimate_usd, scopes)
        if not admission.admitted:
            return admission
        expires = datetime.now(UTC) + timedelta(seconds=caps.ttl_s)
        await conn.execute(
            "INSERT INTO reservations (run_id, agent, repo, repo_key, subject, amount_usd, expires_at) "
            "VALUES ($1, $2, $3, lower($3), $4, $5, $6)",
            ask.run_id, ask.agent, ask.repo, ask.subject, admission.allowance_usd, expires)
        return Admission(True, allowance_usd=admission.allowance_usd, expires_at=expires)


async def _scopes(conn: asyncpg.Connection, ask: Ask, caps: Caps) -> list[Scope]:
    """The caps that apply to the ask (the file's caps tightening the settings'), with their figures."""
    own = await conn.fetchrow("SELECT issue_usd, day_usd FROM item_budgets WHERE subject = $1", ask.subject)
    today = datetime.now(UTC).date()
    limits: dict[str, tuple[Decimal | None, str, tuple[object, ...]]] = {
        "issue": (tightest(caps.issue_usd, own and own["issue_usd"]), ask.subject, (ask.subject,)),
        "repo_day": (tightest(caps.repo_day_usd, own and own["day_usd"]), f"{ask.repo}@{today.isoformat()}",
                     (ask.repo.lower(), today)),
        "day": (caps.day_usd, today.isoformat(), (today,)),
    }
    scopes = []
    for name, (limit, target, args) in limits.items():
        if limit is None:
            continue
        runs, reserved = _SCOPES[name]
        spent = await conn.fetchval(f"SELECT coalesce(sum(cost_usd), 0) FROM runs WHERE {runs}", *args)
        held = await conn.fetchval(f"{_HELD} AND {reserved}", *args)
        scopes.append(Scope(name, target, limit, Decimal(spent), Decimal(held)))
    return scopes
