"""Settings of an agent process (`RIG_AGENT_…` besides the common `RIG_…` ones)."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr

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
    agent_consumer: str | None = Field(
        default=None, description="Consumer name in the `agents` group; unset: `{agent}@{hostname}`, so a restarted "
                                  "process takes back its own assignments at once. Give each process of a pool on "
                                  "one host its own.")
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

    agent_provider: Literal["claude", "codex", "scripted"] = Field(
        default="claude", description="The coding CLI the agent drives.")
    agent_model: str | None = Field(default=None, description="Model the provider uses; unset: the CLI's default.")
    agent_max_turns: int | None = Field(default=None, ge=1, description="Stop a provider run after this many turns.")
    agent_max_seconds: float | None = Field(default=3600.0, gt=0, description="Stop a provider run after this long.")
    agent_max_cost_usd: Decimal | None = Field(default=None, gt=0,
                                               description="Stop a provider run above this API-equivalent cost.")
    agent_executable: str | None = Field(default=None,
                                         description="Path of the CLI (`claude`, `codex`); unset: found on PATH.")
    agent_provider_base_url: str | None = Field(
        default=None, description="Model API base URL (a local gateway or a scripted server in tests).")
    agent_skip_permissions: bool = Field(
        default=False, description="Run the CLI with every permission (only inside a sandboxed container).")
    anthropic_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("RIG_ANTHROPIC_API_KEY", "ANTHROPIC_API_KEY"),
        description="Claude Code's Anthropic API key (ANTHROPIC_API_KEY works too).")
    claude_code_oauth_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("RIG_CLAUDE_CODE_OAUTH_TOKEN", "CLAUDE_CODE_OAUTH_TOKEN"),
        description="Claude Code's OAuth token instead of a key (CLAUDE_CODE_OAUTH_TOKEN works too).")
    openai_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("RIG_OPENAI_API_KEY", "OPENAI_API_KEY"),
        description="Codex's OpenAI API key (OPENAI_API_KEY works too).")
    agent_transcript: str | None = Field(
        default=None, description="The scripted provider's recorded transcript (JSONL), or a folder of recorded runs "
                                  "(`dev-N.jsonl`, `review-N.jsonl`); unset: the demo's.")
    agent_work_dir: str | None = Field(
        default=None, description="Clones and provider session files; unset: {data_dir}/agents/{agent}.")
    agent_check_attempts: int = Field(default=2, ge=1,
                                      description="Provider runs Dev-E may take to make the build and tests pass.")
    agent_tool_install: str = Field(default="", description="Shell template installing one `tools` entry into the "
                                                            "run's HOME (system folders are read-only in the "
                                                            "workloads' sandbox), e.g. `npm install -g --prefix "
                                                            "\"$HOME/.local\" {tool}`; empty: tools are not installed.")
