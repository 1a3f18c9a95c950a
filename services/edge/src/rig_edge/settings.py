"""The edge's settings, from `RIG_…` environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Self

from pydantic import Field, field_validator, model_validator

from rig_service.settings import CommonSettings
from rig_service.trusted import check_edge_secret


class EdgeSettings(CommonSettings):
    """Where the upstream services listen and how long the edge waits for them."""

    upstream_host: str = Field(
        default="127.0.0.1",
        description="Host every service listens on; a service's upstream is http://{upstream_host}:{its port}.",
    )
    upstreams: dict[str, str] = Field(
        default_factory=dict,
        description='Base URL per service name, overriding host and port, as JSON: {"ingest": "http://10.0.0.5:9001"}.',
    )
    topology: Path | None = Field(
        default=None, description="The route table file. Unset: topology.toml found upwards from the working folder."
    )
    upstream_connect_timeout_s: float = Field(
        default=2.0, gt=0, description="Seconds to open a connection to a service before answering 502."
    )
    upstream_response_timeout_s: float = Field(
        default=30.0, gt=0,
        description="Seconds to wait for a service's response headers before answering 504 (a body, such as an "
                    "event stream, may then take as long as it needs).",
    )
    upstream_max_connections: int = Field(
        default=500, ge=1, description="Connections to one service at once; more requests wait for a free one."
    )
    upstream_keepalive_connections: int = Field(
        default=16, ge=0,
        description="Connections kept open to one service for reuse; past this many, idle ones are closed (the "
                    "pool's cost per request grows with its size).",
    )
    upstream_keepalive_s: float = Field(
        default=4.0, gt=0,
        description="Seconds an idle connection is kept; below uvicorn's 5 s keep-alive, so a service never closes "
                    "a connection just as the edge reuses it.",
    )
    github_api_url: str = Field(
        default="https://api.github.com",
        description="The GitHub API in use (the same RIG_GITHUB_API_URL the services read): the sandbox is routed "
                    "through the edge (its /healthz, /readyz and /metrics only) only when this is its URL.",
    )
    edge_profile: bool = Field(
        default=False,
        description="Benchmarks only: time each phase of every request and serve the sums at "
                    "/services/edge/profile.",
    )

    @field_validator("upstreams")
    @classmethod
    def check_upstreams(cls, value: dict[str, str]) -> dict[str, str]:
        """Refuse base URLs that are not http(s); drop trailing slashes so paths join cleanly."""
        for name, url in value.items():
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"RIG_UPSTREAMS[{name!r}] = {url!r} is not an http(s) URL, e.g. http://127.0.0.1:8001")
        return {name: url.rstrip("/") for name, url in value.items()}

    @model_validator(mode="after")
    def require_edge_secret(self) -> Self:
        """Outside development the edge signs every client address it forwards, so it needs RIG_EDGE_SECRET."""
        if self.environment != "development":
            secret = self.edge_secret.get_secret_value() if self.edge_secret else None
            check_edge_secret(secret, why=f"the edge runs in {self.environment}")
        return self
