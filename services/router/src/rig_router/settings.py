"""Settings of the router service."""

from __future__ import annotations

from pydantic import Field

from rig_service.settings import CommonSettings


class RouterSettings(CommonSettings):
    """The router's settings (`RIG_ROUTER_…`); GitHub access comes from `RIG_GITHUB_…` (the conductor's App)."""

    router_config_path: str = Field(default=".rig-agent.yaml", min_length=1,
                                    description="Path of the repository's agent configuration on its default branch.")
    router_maintainers: list[str] = Field(
        default_factory=list,
        description="GitHub logins mentioned in the comment when an item escalates to people, a JSON list.")
    router_pr_authors: list[str] = Field(
        default_factory=list,
        description="People whose PRs (from the base repository, never a fork) an item adopts besides the dev "
                    "App's, a JSON list of logins; empty by default.")
    router_lease_s: float = Field(default=900.0, gt=0,
                                  description="How long a pulled assignment (ibuild-e) is leased before it "
                                              "may be handed out again.")
    router_comment_retry_s: float = Field(default=5.0, gt=0,
                                          description="How often comments not yet posted on GitHub are tried again.")
    router_start_lease_s: float = Field(default=300.0, gt=0,
                                        description="An assignment nobody started (no WORK_STARTED) within this "
                                                    "long is signalled again (one more wake entry).")
    router_progress_lease_s: float = Field(default=1800.0, gt=0,
                                           description="A dev assignment without progress (work started, heartbeat, "
                                                       "run steps) within this long is reassigned, attempt + 1.")
    router_max_attempts: int = Field(default=3, ge=1,
                                     description="Dev assignments of one item before an expired lease escalates "
                                                 "it to people instead of reassigning.")
    router_lease_sweep_s: float = Field(default=5.0, gt=0, description="How often leases are checked.")
    router_config_ttl_s: float = Field(default=0.0, ge=0,
                                       description="How long a repository's .rig-agent.yaml reading is reused "
                                                   "without asking GitHub again; 0: read on every approval.")
    router_pool_limits: dict[str, int] = Field(
        default_factory=dict,
        description="Most assignments handed out at once per agent pool, a JSON object such as "
                    '{"dev-e-node": 4}; a pool not named has no limit. The rest wait, by priority and age.')
    router_repo_limit: int = Field(default=0, ge=0,
                                   description="Most assignments handed out at once per repository; 0: no limit.")
