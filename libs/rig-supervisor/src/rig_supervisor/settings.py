"""Settings of the supervisor (`make run`)."""

from __future__ import annotations

from pydantic import Field

from rig_service.settings import CommonSettings


class SupervisorSettings(CommonSettings):
    """What `make run` reads besides the common settings."""

    topology: str | None = Field(default=None, description="Path of the topology file (default: the repository's "
                                 "topology.toml).")
    agent_command: list[str] | None = Field(default=None, description="Command that starts an agent process, as a "
                                            "JSON list with {agent} and {port}; default: the topology's.")
    port_offset: int = Field(default=0, ge=0, le=50000, description="Added to every port of the topology, to run "
                             "a second system beside one on the default ports.")
    wake_poll_ms: int = Field(default=50, ge=5, description="How often the wake lists are read.")
