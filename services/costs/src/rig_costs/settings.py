"""Settings of the cost tracker (`RIG_COSTS_…`)."""

from __future__ import annotations

from pydantic import Field

from rig_service.settings import CommonSettings


class CostsSettings(CommonSettings):
    """The cost tracker's settings (`RIG_COSTS_…`)."""

    costs_page_size: int = Field(default=50, ge=1, le=500,
                                 description="Runs per page of `GET /api/runs` when the caller gives no `limit`.")
    costs_run_lines: int = Field(default=1000, ge=0, le=100_000,
                                 description="Output lines `GET /api/runs/{id}` shows at most; the rest page through "
                                             "`GET /api/runs/{id}/lines?after=N`.")
    costs_issue_budget_usd: float | None = Field(
        default=None, gt=0, description="Cap of one issue's API-equivalent cost across all its runs (dev, review, "
                                        "retries, fixes); once reached, BUDGET_EXCEEDED and no further assignment. "
                                        "Unset: no cap.")
    costs_repo_day_budget_usd: float | None = Field(
        default=None, gt=0, description="Cap of one repository's API-equivalent cost per UTC day; once reached, "
                                        "BUDGET_EXCEEDED and no new work there that day. Unset: no cap.")
    costs_day_budget_usd: float | None = Field(
        default=None, gt=0, description="Cap of the whole installation's API-equivalent cost per UTC day; once "
                                        "reached, no run is admitted until the next day. Unset: no cap.")
    costs_run_budget_usd: float | None = Field(
        default=None, gt=0, description="Cap of one run: what a run reserves before it starts and the most it may "
                                        "spend (its provider is stopped past it). Unset: runs reserve "
                                        "RIG_COSTS_RUN_ESTIMATE_USD where another cap applies.")
    costs_run_estimate_usd: float = Field(
        default=2.0, gt=0, description="What a run reserves, and may spend, when no per-run cap is set but an "
                                       "issue, repository or daily cap applies to it.")
    costs_reservation_ttl_s: float = Field(
        default=7200, gt=0, description="A reservation whose run never finished (its agent died) is released after "
                                        "this many seconds.")
    costs_warn_fraction: float = Field(
        default=0.8, gt=0, lt=1, description="Share of a cap at which BUDGET_WARNING is written, once per budget.")
    costs_lines_keep_days: float = Field(default=30, gt=0, description="Days an output line is kept after it was "
                                                                      "stored; older lines are deleted.")
    costs_retention_every_s: float = Field(default=3600, gt=0, description="How often retention runs.")
    costs_retention_batch: int = Field(default=1000, ge=1, description="Lines deleted per transaction, so readers "
                                                                       "are never held up for long.")
