"""Settings of an agent process (`RIG_AGENT_…` besides the common `RIG_…` ones)."""

from __future__ import annotations

from pydantic import Field, SecretStr

from rig_service.settings import CommonSettings


class AgentSettings(CommonSettings):
    """How an agent process reaches Valkey and the conductor, and how long it holds on to work."""

    agent_redis_url: SecretStr | None = Field(
        default=None,
        description="Valkey URL with the agent pool's own ACL user (`redis://agent-dev-e-node:PASSWORD@host:6379`); "
                    "unset: RIG_REDIS_URL.")
    agent_conductor_url: str = Field(default="http://127.0.0.1:8000",
                                     description="Base URL of the conductor's edge, for events, runs and merges.")
    agent_token: SecretStr | None = Field(default=None,
                                          description="The agent's access token (`rig tokens create --subject "
                                                      "agent:<pool> --scope events:write …`).")
    agent_cluster: bool = Field(default=False,
                                description="Running under KEDA: never exit on idle (a Deployment would restart it).")
    agent_idle_exit_s: float = Field(default=300.0, gt=0,
                                     description="Outside a cluster, exit after this long without work.")
    agent_busy_ttl_s: float = Field(default=60.0, gt=0,
                                    description="TTL of `busy:{agent}`, refreshed while working; it lapses this long "
                                                "after the agent stops or dies.")
    agent_reclaim_idle_s: float = Field(default=600.0, gt=0,
                                        description="An assignment pending this long with no claim refresh belongs to "
                                                    "a dead agent and is taken over.")
    agent_heartbeat_s: float = Field(default=30.0, gt=0, description="Seconds between AGENT_HEARTBEAT events.")
    agent_max_deliveries: int = Field(default=3, ge=1,
                                      description="An assignment that failed this many times is escalated, not "
                                                  "retried.")
    agent_block_s: float = Field(default=1.0, gt=0, description="How long one read of the stream waits for work.")
