"""What the `rig` tool reads from the environment: the common `RIG_…` settings and where the edge is."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from rig_service.settings import CommonSettings


class CliSettings(CommonSettings):
    """Settings of the `rig` tool; it finds PostgreSQL, Valkey and the signing key as the supervisor does."""

    edge_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Base URL of the edge; `rig` calls every service's HTTP API through it.",
    )
    topology: Path | None = Field(
        default=None,
        description="The topology file (services, ports, agent pools). Unset: topology.toml found upwards "
                    "from the working folder.",
    )
    sandbox_url: str = Field(
        default="http://127.0.0.1:8090",
        description="Base URL of the sandbox (the GitHub stand-in) that `rig sandbox …` drives.",
    )
    http_timeout_s: float = Field(
        default=10.0, gt=0, description="How long `rig` waits for one HTTP answer from the edge, in seconds."
    )
    admin_token_ttl_s: int = Field(
        default=600, ge=60,
        description="Lifetime of the `admin` token `rig` mints for its own HTTP calls, in seconds "
                    "(renewed while a long command runs).",
    )
