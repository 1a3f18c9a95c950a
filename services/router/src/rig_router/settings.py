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
    router_lease_s: float = Field(default=900.0, gt=0,
                                  description="How long a pulled assignment (ibuild-e) is leased before it "
                                              "may be handed out again.")
    router_comment_retry_s: float = Field(default=5.0, gt=0,
                                          description="How often comments not yet posted on GitHub are tried again.")
